package status

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Output formats.
const (
	OutputTable = "table"
	OutputWide  = "wide"
	OutputJSON  = "json"
)

// Outputs are the values of -o.
var Outputs = []string{OutputTable, OutputWide, OutputJSON}

// Write prints the fleet in format (table, wide or json).
func Write(w io.Writer, f *Fleet, format string) error {
	switch format {
	case OutputTable, "":
		return WriteTable(w, f, false)
	case OutputWide:
		return WriteTable(w, f, true)
	case OutputJSON:
		return WriteJSON(w, f)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Outputs, ", "))
}

// WriteJSON prints the fleet as one JSON document (kind FleetStatus), with a
// summary: total, ready, and the names of the Applications not ready (the
// hub's). When the client view was read, the document also has clients (one
// entry per hosting cluster) and summary.clients.
func WriteJSON(w io.Writer, f *Fleet) error {
	ready, total := f.Summary()
	notReady := []string{}
	for _, a := range f.Problems() {
		notReady = append(notReady, a.Name)
	}
	doc := struct {
		Kind string `json:"kind"`
		*Fleet
		Summary struct {
			Total    int            `json:"total"`
			Ready    int            `json:"ready"`
			NotReady []string       `json:"notReady"`
			Clients  *ClientSummary `json:"clients,omitempty"`
		} `json:"summary"`
	}{Kind: "FleetStatus", Fleet: f}
	doc.Summary.Total, doc.Summary.Ready, doc.Summary.NotReady = total, ready, notReady
	doc.Summary.Clients = f.ClientSummary()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// CellText is what the table shows for one Application: the version it
// synced ("old->new" while a new one is pending), followed by sync/health
// when it is not Synced and Healthy (always with wide), and the operation
// phase when it did not succeed.
func CellText(a App, wide bool) string {
	v := a.Version
	if a.TargetVersion != "" {
		v = orDefault(v, "?") + "->" + a.TargetVersion
	}
	parts := []string{}
	if v != "" {
		parts = append(parts, v)
	}
	if wide || !a.Ready() {
		parts = append(parts, orDefault(a.Sync, "Unknown")+"/"+orDefault(a.Health, "Unknown"))
	}
	if a.Operation != "" && a.Operation != "Succeeded" {
		parts = append(parts, "op:"+a.Operation)
	}
	if len(parts) == 0 {
		return "Synced/Healthy"
	}
	return strings.Join(parts, " ")
}

// WriteTable prints the cluster × addon matrix with the environment column,
// then the Applications no ApplicationSet generated, the client view (when
// read), the warnings, then each problem with its messages, one per line.
func WriteTable(w io.Writer, f *Fleet, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tENVIRONMENT\t"+strings.Join(f.Addons, "\t"))
	for _, c := range f.Clusters {
		cells := []string{c.Name, orDefault(c.Environment, "-")}
		for _, addon := range f.Addons {
			if a, ok := f.Cell(c.Name, addon); ok {
				cells = append(cells, CellText(a, wide))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if others := f.Others(); len(others) > 0 {
		fmt.Fprintln(w, "\nApplications no ApplicationSet generated:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "APPLICATION\tCLUSTER\tSYNC\tHEALTH\tVERSION")
		for _, a := range others {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Cluster, orDefault(a.Sync, "Unknown"), orDefault(a.Health, "Unknown"), versionText(a))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if f.Clients != nil {
		if err := writeClientTable(w, f.Clients, wide); err != nil {
			return err
		}
	}
	for _, msg := range f.Warnings {
		fmt.Fprintf(w, "\nWarning: %s\n", msg)
	}
	if problems := f.Problems(); len(problems) > 0 {
		_, total := f.Summary()
		fmt.Fprintf(w, "\nNot Synced and Healthy (%d of %d):\n", len(problems), total)
		for _, a := range problems {
			writeProblem(w, a, Where(a))
		}
	}
	if s := f.ClientSummary(); s != nil && s.Findings() > 0 {
		head := fmt.Sprintf("Client Argo CD: not Synced and Healthy (%d of %d)", len(s.NotReady), s.Total)
		if n := len(s.Unavailable); n > 0 {
			head += fmt.Sprintf(", hosting clusters unavailable (%d of %d)", n, s.Clusters)
		}
		fmt.Fprintln(w, "\n"+head+":")
		for _, c := range f.Clients {
			if c.Unavailable() {
				fmt.Fprintf(w, "%s  (cluster unavailable)\n", c.Cluster)
				writeLines(w, "  ", c.Error)
			}
			for _, a := range c.Apps {
				if !a.Ready() {
					writeProblem(w, a, clientWhere(c, a))
				}
			}
		}
	}
	return nil
}

// writeClientTable is the client view: one row per client Application, a
// row for each hosting cluster without one (no Applications, no Argo CD,
// unavailable), and the reason of each cluster without Argo CD. With wide,
// the project and the destination too.
func writeClientTable(w io.Writer, clients []ClientArgoCD, wide bool) error {
	ns := []string{}
	for _, c := range clients {
		if !slices.Contains(ns, c.Namespace) {
			ns = append(ns, c.Namespace)
		}
	}
	fmt.Fprintf(w, "\nClient Argo CD (namespace %s) on the hosting clusters:\n", strings.Join(ns, ", "))
	if len(clients) == 0 {
		fmt.Fprintln(w, "no hosting cluster is registered")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "CLUSTER\tAPPLICATION\tSYNC\tHEALTH\tVERSION"
	if wide {
		head += "\tDESTINATION\tOPERATION"
	}
	fmt.Fprintln(tw, head)
	for _, c := range clients {
		if len(c.Apps) == 0 {
			fmt.Fprintln(tw, c.Cluster+"\t"+clientCell(c))
			continue
		}
		for _, a := range c.Apps {
			row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", c.Cluster, a.Name, orDefault(a.Sync, "Unknown"), orDefault(a.Health, "Unknown"), versionText(a))
			if wide {
				row += fmt.Sprintf("\t%s\t%s", a.Cluster, orDefault(a.Operation, "-"))
			}
			fmt.Fprintln(tw, row)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range clients {
		if c.State == ClientNotInstalled {
			fmt.Fprintln(w, c.Error)
		}
	}
	return nil
}

// writeProblem prints an Application that is not Synced and Healthy: name,
// where, its state, its messages one per line.
func writeProblem(w io.Writer, a App, where string) {
	fmt.Fprintf(w, "%s  %s\n", a.Name, where)
	fmt.Fprintf(w, "  %s\n", StateText(a))
	for _, m := range a.Messages {
		writeLines(w, "    ", m)
	}
}

func writeLines(w io.Writer, indent, text string) {
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimRight(line, " \t\r"); line != "" {
			fmt.Fprintf(w, "%s%s\n", indent, line)
		}
	}
}

// Where names an Application's cell: cluster and addon.
func Where(a App) string {
	if a.Addon == "" {
		return "(cluster " + a.Cluster + ")"
	}
	return "(cluster " + a.Cluster + ", addon " + a.Addon + ")"
}

// StateText is sync, health, operation and version in words.
func StateText(a App) string {
	s := "sync " + orDefault(a.Sync, "Unknown") + ", health " + orDefault(a.Health, "Unknown")
	if a.Operation != "" {
		s += ", last operation " + a.Operation
	}
	if v := versionText(a); v != "-" {
		s += ", version " + v
	}
	return s
}

func versionText(a App) string {
	switch {
	case a.TargetVersion != "":
		return orDefault(a.Version, "none") + " (target " + a.TargetVersion + ")"
	case a.Version != "":
		return a.Version
	}
	return "-"
}
