package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"k8s.io/client-go/kubernetes"

	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

// ConfigSet creates or replaces a client's Secret on the hub
// (`hubctl config set`).
type ConfigSet struct {
	Hub    kubernetes.Interface
	Client string
	Name   string
	// Literals are KEY=VALUE.
	Literals []string
	// Files are KEY=PATH, or PATH (the key is the file's base name).
	Files []string
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
	for _, f := range o.Files {
		k, p, ok := cutKey(f)
		if !ok {
			k, p = filepath.Base(f), f
		}
		v, err := readBounded(p, hubconfig.MaxSecretBytes)
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
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
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
	switch format {
	case "json":
		if infos == nil {
			infos = []hubconfig.Info{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	case "", "table":
	default:
		return fmt.Errorf("output format %q: want table or json", format)
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
