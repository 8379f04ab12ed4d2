package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"k8s.io/client-go/kubernetes"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// ConfigSet creates or replaces a client's Secret on the hub
// (`hubctl config set`).
type ConfigSet struct {
	Hub    kubernetes.Interface
	Client string
	Name   string
	// Literals are KEY=VALUE.
	Literals []string
	// Files are KEY=PATH, or PATH (the key is the file's base name). PATH
	// "-" reads Stdin (once), which keeps a value off the command line.
	Files []string
	Stdin io.Reader
}

// Run reads the data and sets the Secret. Errors never quote a value.
func (o *ConfigSet) Run(ctx context.Context) (hubconfig.Info, error) {
	data, err := o.data()
	if err != nil {
		return hubconfig.Info{}, fmt.Errorf("secret %s: %w", o.Name, err)
	}
	return hubconfig.Set(ctx, o.Hub, o.Client, o.Name, data)
}

func (o *ConfigSet) data() (map[string][]byte, error) {
	data := map[string][]byte{}
	add := func(k string, v []byte) error {
		if _, dup := data[k]; dup {
			return fmt.Errorf("key %q given twice", k)
		}
		data[k] = v
		return nil
	}
	for i, l := range o.Literals {
		k, v, ok := cutKey(l)
		if !ok {
			// never quote the argument: it may be a bare value
			return nil, fmt.Errorf("--from-literal #%d: want KEY=VALUE", i+1)
		}
		if err := add(k, []byte(v)); err != nil {
			return nil, err
		}
	}
	stdinUsed := false
	for _, f := range o.Files {
		k, p, ok := cutKey(f)
		if !ok {
			k, p = filepath.Base(f), f
		}
		var v []byte
		var err error
		if p == "-" {
			if !ok || stdinUsed || o.Stdin == nil {
				return nil, errors.New("--from-file KEY=-: standard input gives one key, named")
			}
			stdinUsed = true
			v, err = readAllBounded(o.Stdin, "standard input", hubconfig.MaxSecretBytes)
		} else {
			v, err = readBounded(p, hubconfig.MaxSecretBytes)
		}
		if err != nil {
			return nil, fmt.Errorf("--from-file %s: %w", k, err)
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	if len(data) == 0 {
		return nil, errors.New("give --from-literal KEY=VALUE or --from-file [KEY=]FILE")
	}
	return data, nil
}

// cutKey splits KEY=REST; the key must be non-empty.
func cutKey(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], i > 0
		}
	}
	return "", "", false
}

// readBounded reads a regular file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return readAllBounded(f, path, max)
}

// readAllBounded reads r, named name in errors, up to max bytes.
func readAllBounded(r io.Reader, name string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return b, nil
}

// ConfigGet describes one of a client's Secrets (`hubctl config get`).
type ConfigGet struct {
	Hub    kubernetes.Interface
	Client string
	Name   string
}

// Run describes the Secret.
func (o *ConfigGet) Run(ctx context.Context) (hubconfig.Info, error) {
	return hubconfig.Get(ctx, o.Hub, o.Client, o.Name)
}

// ConfigList lists a client's Secrets, or every client's (`hubctl config
// list`).
type ConfigList struct {
	Hub    kubernetes.Interface
	Client string // empty: every client namespace hubctl created
}

// Run lists.
func (o *ConfigList) Run(ctx context.Context) ([]hubconfig.Info, error) {
	return hubconfig.List(ctx, o.Hub, o.Client)
}

// ConfigDelete deletes a client's Secret that hubctl created (`hubctl
// config delete`).
type ConfigDelete struct {
	Hub    kubernetes.Interface
	Client string
	Name   string
}

// Run deletes.
func (o *ConfigDelete) Run(ctx context.Context) error {
	return hubconfig.Delete(ctx, o.Hub, o.Client, o.Name)
}

// WriteSecretInfos writes infos as a table (one row per key) or, with
// format "json", a JSON list. Neither carries a value.
func WriteSecretInfos(w io.Writer, format string, infos []hubconfig.Info) error {
	if done, err := writeJSONList(w, format, infos); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSECRET\tMANAGED\tKEY\tSIZE\tSHA256")
	for _, in := range infos {
		managed := "no"
		if in.Managed {
			managed = "hubctl"
		}
		if len(in.Keys) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\n", in.Namespace, in.Name, managed)
		}
		for _, k := range in.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", in.Namespace, in.Name, managed, k.Name, k.Size, k.SHA256)
		}
	}
	return tw.Flush()
}

// ConfigPlan shows, offline, which hub key every ExternalSecret of the tree
// reads on which cluster (`hubctl config plan`): it generates the
// Applications, merges each Helm source's value files (as Helm merges user
// values, without the chart's defaults, so no chart is loaded), and finds
// the ExternalSecrets in them (the charts' extraObjects / extraManifests /
// extraDeploy lists) whose store is the hub's. With Hub set, it checks that
// each key exists on the hub.
type ConfigPlan struct {
	Render
	// Hub, when set, is checked for the referenced Secrets and keys.
	Hub kubernetes.Interface
	// ClientLabel is the registry label naming a cluster's client
	// (default "client").
	ClientLabel string
}

// ConfigPlanResult is the outcome of ConfigPlan.
type ConfigPlanResult struct {
	Refs []hubconfig.Ref
	// Problems are ExternalSecrets that could not be read (malformed, a
	// cluster without a client): each names the Application.
	Problems []string
}

// Missing counts the references whose Secret or key is not on the hub.
func (r *ConfigPlanResult) Missing() int {
	n := 0
	for _, ref := range r.Refs {
		if ref.Status != "" && ref.Status != hubconfig.StatusOK {
			n++
		}
	}
	return n
}

// Run builds the plan.
func (o *ConfigPlan) Run(ctx context.Context) (*ConfigPlanResult, error) {
	gen, opts, err := o.Render.prepare(ctx)
	if err != nil {
		return nil, err
	}
	label := o.ClientLabel
	if label == "" {
		label = conventions.ClientLabel
	}
	clients := map[string]string{}
	if gen.Registry != nil {
		for _, c := range gen.Registry.Clusters {
			clients[c.Name] = c.Labels[label]
		}
	}
	res := &ConfigPlanResult{}
	for _, ga := range gen.Apps {
		app, err := ga.Typed()
		if err != nil {
			return nil, fmt.Errorf("application %s: %w", ga.Name, err)
		}
		cluster := DestinationCluster(gen.Registry, ga)
		srcs := app.Spec.Sources
		single := len(srcs) == 0
		if single && app.Spec.Source != nil {
			srcs = []v1alpha1.ApplicationSource{*app.Spec.Source}
		}
		for i := range srcs {
			if srcs[i].Chart == "" && srcs[i].Helm == nil {
				continue
			}
			idx := i
			if single {
				idx = -1
			}
			in, err := source.ResolveHelmWithOptions(app, idx, opts.Repos, emptyFS{}, source.Options{})
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("application %s: %v", ga.Name, err))
				continue
			}
			vals, err := in.UserValues()
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("application %s: %v", ga.Name, err))
				continue
			}
			for _, es := range hubconfig.FindExternalSecrets(vals) {
				refs, err := hubconfig.HubRefs(es, clients[cluster])
				if err != nil {
					res.Problems = append(res.Problems, fmt.Sprintf("application %s (cluster %s): %v", ga.Name, cluster, err))
					continue
				}
				for _, r := range refs {
					r.Cluster, r.App = cluster, ga.Name
					res.Refs = append(res.Refs, r)
				}
			}
		}
	}
	sort.SliceStable(res.Refs, func(i, j int) bool {
		a, b := res.Refs[i], res.Refs[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.App < b.App
	})
	if o.Hub != nil {
		if err := hubconfig.Check(ctx, o.Hub, res.Refs); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// writeJSONList writes items as a JSON list (never null) when format is
// "json" (done), and checks the format otherwise: "" and "table" are left to
// the caller (not done).
func writeJSONList[T any](w io.Writer, format string, items []T) (done bool, err error) {
	switch format {
	case "json":
		if items == nil {
			items = []T{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return true, enc.Encode(items)
	case "", "table":
		return false, nil
	default:
		return true, fmt.Errorf("output format %q: want table or json", format)
	}
}

// WriteConfigPlan writes the plan as a table or JSON. It carries no value.
func WriteConfigPlan(w io.Writer, format string, res *ConfigPlanResult) error {
	if done, err := writeJSONList(w, format, res.Refs); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tAPPLICATION\tEXTERNALSECRET\tTARGET\tHUB SECRET\tKEY\tSTATUS")
	for _, r := range res.Refs {
		key, status := r.Key, r.Status
		if key == "" {
			key = "(all)"
		}
		if status == "" {
			status = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%s\t%s\n", r.Cluster, r.App, r.ExternalSecret, r.Target, r.Namespace, r.Secret, key, status)
	}
	return tw.Flush()
}

// emptyFS has no file: a chart source's relative value files (read from the
// chart, which plan does not load) are reported missing.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
