package diff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats of WriteTo.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
	FormatHTML     = "html"
)

// Formats lists the output formats.
var Formats = []string{FormatText, FormatMarkdown, FormatJSON, FormatHTML}

// Write writes the report in a format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText, "":
		return r.WriteText(w)
	case FormatMarkdown:
		return r.WriteMarkdown(w, MarkdownLimit)
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatHTML:
		return r.WriteHTML(w)
	}
	return fmt.Errorf("unknown output format %q (want %s)", format, strings.Join(Formats, ", "))
}

// ShortRev shortens a commit SHA to 12 digits ("worktree" stays).
func ShortRev(s string) string {
	if len(s) == 40 {
		return s[:12]
	}
	return s
}

// WriteText writes the impact matrix, then every change with its unified
// diffs.
func (r *Report) WriteText(out io.Writer) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "hubctl diff %s..%s: %s\n", ShortRev(r.Base), ShortRev(r.Head), r.headline())
	for _, warn := range r.warnings() {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
	m := r.Matrix()
	if len(m.Clusters) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "CLUSTER")
		for _, a := range m.Addons {
			fmt.Fprintf(tw, "\t%s", a)
		}
		fmt.Fprintln(tw)
		for _, c := range m.Clusters {
			fmt.Fprint(tw, c)
			for _, a := range m.Addons {
				fmt.Fprintf(tw, "\t%s", m.Cell(c, a))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		fmt.Fprintln(w, "(Applications: + added, - removed, ~ changed, = unchanged)")
	}
	for _, a := range r.Apps {
		fmt.Fprintf(w, "\n=== Application %s (cluster %s, ApplicationSet %s): %s\n", a.Name, a.Cluster, a.AppSet, a.label())
		if a.SpecDiff != "" {
			fmt.Fprint(w, a.SpecDiff)
		}
		objs := a.Objects
		if a.RenamedFrom != "" {
			if len(a.RenameObjects) == 0 {
				fmt.Fprintf(w, "(objects compared with those of %s: no difference)\n", a.RenamedFrom)
			} else {
				fmt.Fprintf(w, "(objects compared with those of %s)\n", a.RenamedFrom)
			}
			objs = a.RenameObjects
		}
		for _, o := range objs {
			fmt.Fprintf(w, "--- %s: %s\n", o.ID(), o.label(a))
			if a.RenamedTo == "" {
				fmt.Fprint(w, o.Diff)
			}
		}
	}
	return w.Flush()
}

// JSON shape of `hubctl diff -o json`.
type jsonReport struct {
	Base         string    `json:"base"`
	Head         string    `json:"head"`
	Applications []jsonApp `json:"applications"`
}

type jsonApp struct {
	Name             string       `json:"name"`
	Cluster          string       `json:"cluster"`
	ApplicationSet   string       `json:"applicationSet"`
	Change           Change       `json:"change"`
	DeletesResources bool         `json:"deletesResources"`
	Objects          []jsonObject `json:"objects"`
	RenamedFrom      string       `json:"renamedFrom,omitempty"`
	RenamedTo        string       `json:"renamedTo,omitempty"`
}

type jsonObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Change     Change `json:"change"`
	Pruned     bool   `json:"pruned"`
}

// WriteJSON writes the report as the JSON document of issue 10; unchanged
// Applications are left out.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Base: r.Base, Head: r.Head, Applications: []jsonApp{}}
	for _, a := range r.Apps {
		ja := jsonApp{Name: a.Name, Cluster: a.Cluster, ApplicationSet: a.AppSet, Change: a.Change,
			DeletesResources: a.DeletesResources, Objects: []jsonObject{}, RenamedFrom: a.RenamedFrom, RenamedTo: a.RenamedTo}
		for _, o := range a.Objects {
			ja.Objects = append(ja.Objects, jsonObject{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Change: o.Change, Pruned: o.Pruned})
		}
		out.Applications = append(out.Applications, ja)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
