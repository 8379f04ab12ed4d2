// Package helm renders Helm charts offline the way Argo CD's repo-server does.
//
// Argo CD's repo-server (argoproj/argo-cd reposerver/repository/repository.go, helmTemplate)
// builds a util/helm TemplateOpts and util/helm/cmd.go (Cmd.template) shells out to
//
//	helm template <chart> --name-template <release> --namespace <ns> --kube-version <v>
//	    --set k=v... --set-string k=v... --set-file k=path...
//	    --values <file>... --values <temp file with helm.values/valuesObject>
//	    --api-versions <v>... [--include-crds unless skipCrds] [--skip-schema-validation] [--skip-tests]
//
// This package does the same in-process with the Helm v3 SDK: Template follows helm's
// cmd/helm/template.go and cmd/helm/install.go (runInstall) step by step, and Cache fetches
// charts from Helm repositories the way `helm pull --repo` does (pkg/repo, pkg/registry).
package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	k8sversion "k8s.io/apimachinery/pkg/util/version"
)

// DefaultKubeVersion is the Kubernetes version used for .Capabilities.KubeVersion when a
// Request does not name one. The Helm SDK's own default (v1.20, chartutil.DefaultCapabilities
// without the release build's -ldflags) is older than what argo-cd, kube-prometheus-stack and
// ingress-nginx accept in their Chart.yaml kubeVersion.
const DefaultKubeVersion = "1.35.0"

// defaultReleaseName is the release name `helm template` uses when none is given
// (cmd/helm/template.go sets client.ReleaseName = "release-name").
const defaultReleaseName = "release-name"

// ValueFile is a named blob of YAML (a -f/--values file) or, in Request.FileParameters, the
// content of a --set-file parameter. Name only appears in error messages.
type ValueFile struct {
	Name string
	Data []byte
}

// Parameter is one entry of an Argo CD Application's spec.source.helm.parameters: --set, or
// --set-string when ForceString.
type Parameter struct {
	Name, Value string
	ForceString bool
}

// Request is one `helm template` invocation as Argo CD's repo-server builds it.
type Request struct {
	Chart *chart.Chart
	// ReleaseName is passed as --name-template, like Argo CD does, so it is itself rendered as a
	// Go template (TemplateName: Helm's, without the functions that read the environment or
	// the network); "" means helm's "release-name".
	ReleaseName string
	// Namespace is --namespace; "" means "default" (helm's fallback without a kubeconfig).
	Namespace string
	// KubeVersion is --kube-version, e.g. "1.35.0" or "v1.35.2-eks-1234"; "" means
	// DefaultKubeVersion. Like Argo CD (parseKubeVersion) only major.minor.patch are kept.
	KubeVersion string
	// APIVersions are --api-versions, added to Helm's default capabilities.
	APIVersions []string
	// SkipCRDs drops --include-crds; SkipTests is --skip-tests; SkipSchemaValidation is
	// --skip-schema-validation (Argo CD's helm.skipCrds, skipTests, skipSchemaValidation).
	SkipCRDs, SkipTests, SkipSchemaValidation bool
	// ValueFiles are the -f files, in order (later files win, maps merge recursively).
	ValueFiles []ValueFile
	// Values is helm.values / helm.valuesObject as YAML. Argo CD writes it to a temp file that
	// is appended to the --values list, so it wins over every ValueFiles entry.
	Values []byte
	// Parameters are helm.parameters: --set, or --set-string when ForceString.
	Parameters []Parameter
	// FileParameters are helm.fileParameters (--set-file): Name is the parameter, Data the
	// content of the file.
	FileParameters []ValueFile
}

// Template renders req.Chart like
//
//	helm template <release> <chart> --namespace ns --kube-version v --api-versions ...
//	    [--include-crds unless SkipCRDs] [--skip-tests] [--skip-schema-validation]
//	    -f ... --set ... --set-string ... --set-file ...
//
// and returns the multi-document YAML helm prints: the release manifest, then every hook
// (test hooks dropped with SkipTests), byte for byte as cmd/helm/template.go writes it.
// req.Chart is not modified (rendering works on a copy), so a chart returned by Cache.Load
// may be rendered concurrently.
func Template(ctx context.Context, req Request) ([]byte, error) {
	if req.Chart == nil || req.Chart.Metadata == nil {
		return nil, errors.New("helm template: no chart")
	}
	id := chartID(req.Chart)
	fail := func(err error) ([]byte, error) { return nil, fmt.Errorf("helm template %s: %w", id, err) }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	vals, err := mergeValues(req)
	if err != nil {
		return fail(err)
	}

	kubeVersion, err := parseKubeVersion(req.KubeVersion)
	if err != nil {
		return fail(err)
	}

	// cmd/helm/template.go: NameAndChart with --name-template and one argument renders the
	// template (action.TemplateName, here TemplateName: the same without env, expandenv and
	// getHostByName); without it the release is "release-name".
	releaseName := defaultReleaseName
	if req.ReleaseName != "" {
		if releaseName, err = TemplateName(req.ReleaseName); err != nil {
			return fail(fmt.Errorf("release name %q: %w", req.ReleaseName, err))
		}
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = "default"
	}

	// The chart may be shared (Cache.Load); chartutil.ProcessDependencies, called by
	// Install.Run, removes disabled subcharts and rewrites values in place.
	chrt := cloneChart(req.Chart)

	// cmd/helm/install.go runInstall: installable type, then dependencies present in charts/.
	switch chrt.Metadata.Type {
	case "", "application":
	default:
		return fail(fmt.Errorf("%s charts are not installable", chrt.Metadata.Type))
	}
	if deps := chrt.Metadata.Dependencies; deps != nil {
		if err := action.CheckDependencies(chrt, deps); err != nil {
			return fail(fmt.Errorf("an error occurred while checking for chart dependencies (`helm dependency build` would be needed): %w", err))
		}
	}

	// cmd/helm/template.go newTemplateCmd: the Install action in client-only dry-run mode.
	client := action.NewInstall(&action.Configuration{Log: func(string, ...interface{}) {}})
	client.DryRunOption = "true"
	client.DryRun = true
	client.ReleaseName = releaseName
	client.Replace = true // skip the name check
	client.ClientOnly = true
	client.APIVersions = apiVersions(req.APIVersions)
	client.IncludeCRDs = !req.SkipCRDs
	client.KubeVersion = kubeVersion
	client.Namespace = namespace
	client.SkipSchemaValidation = req.SkipSchemaValidation

	rel, err := client.RunWithContext(ctx, chrt, vals)
	if err != nil {
		return fail(err)
	}
	return templateOutput(rel, req.SkipTests), nil
}

// templateOutput prints a release as cmd/helm/template.go does without --output-dir or
// --show-only: the trimmed manifest and a newline, then each hook (skipping test hooks with
// --skip-tests) as "---\n# Source: <path>\n<manifest>\n".
func templateOutput(rel *release.Release, skipTests bool) []byte {
	var out bytes.Buffer
	out.WriteString(strings.TrimSpace(rel.Manifest))
	out.WriteByte('\n')
	for _, h := range rel.Hooks {
		if skipTests && isTestHook(h) {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return out.Bytes()
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// parseKubeVersion normalises the version as Argo CD does (reposerver/repository/repository.go
// parseKubeVersion: k8s.io/apimachinery ParseGeneric, keeping major.minor.patch only), then
// parses it as helm's --kube-version flag (chartutil.ParseKubeVersion).
func parseKubeVersion(v string) (*chartutil.KubeVersion, error) {
	if v == "" {
		v = DefaultKubeVersion
	}
	gv, err := k8sversion.ParseGeneric(v)
	if err != nil {
		return nil, fmt.Errorf("could not parse kubernetes version %s: %w", v, err)
	}
	kv, err := chartutil.ParseKubeVersion(gv.String())
	if err != nil {
		return nil, fmt.Errorf("invalid kube version '%s': %w", gv.String(), err)
	}
	return kv, nil
}

// apiVersions mirrors helm's --api-versions flag, a pflag StringSlice: each value is split on
// commas.
func apiVersions(in []string) chartutil.VersionSet {
	var out chartutil.VersionSet
	for _, v := range in {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// CheckValues merges req's values files, inline values and parameters exactly as Template
// does and returns Template's error for them: `hubctl values` fails where `hubctl render`
// fails.
func CheckValues(req Request) error {
	if req.Chart == nil || req.Chart.Metadata == nil {
		return errors.New("helm template: no chart")
	}
	if _, err := mergeValues(req); err != nil {
		return fmt.Errorf("helm template %s: %w", chartID(req.Chart), err)
	}
	return nil
}

// mergeValues computes the user-supplied values exactly as `helm template` does: the files
// and parameters are handed to helm's own values.Options.MergeValues (pkg/cli/values/options.go:
// -f files in order, then --set, --set-string, --set-file), from a private temp directory.
// The chart's values.yaml is coalesced later, by Install.Run.
func mergeValues(req Request) (map[string]interface{}, error) {
	dir, err := os.MkdirTemp("", "hubctl-helm-values-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Temp paths are replaced by the caller's names in helm's error messages.
	names := map[string]string{}
	write := func(base, name string, data []byte) (string, error) {
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return "", err
		}
		names[p] = name
		return p, nil
	}

	var opts values.Options
	for i, f := range req.ValueFiles {
		p, err := write(fmt.Sprintf("values-%04d.yaml", i), valueFileName(f.Name, i, "values file"), f.Data)
		if err != nil {
			return nil, err
		}
		opts.ValueFiles = append(opts.ValueFiles, p)
	}
	// reposerver/repository/repository.go helmTemplate: a non-empty helm.values/valuesObject
	// becomes templateOpts.ExtraValues, which util/helm/cmd.go appends after the other --values.
	if len(req.Values) > 0 {
		p, err := write("values-inline.yaml", "helm.values", req.Values)
		if err != nil {
			return nil, err
		}
		opts.ValueFiles = append(opts.ValueFiles, p)
	}

	// reposerver/repository/repository.go helmTemplate collects parameters into maps
	// (templateOpts.Set / SetString / SetFile: a repeated name keeps its last value) and
	// util/helm/cmd.go emits every --set, then every --set-string, then every --set-file, each
	// value through cleanSetParameters. Argo CD iterates Go maps (random order); this keeps
	// the order of first appearance so the result is deterministic.
	set, setString := newOrderedMap(), newOrderedMap()
	for _, p := range req.Parameters {
		if p.ForceString {
			setString.put(p.Name, p.Value)
		} else {
			set.put(p.Name, p.Value)
		}
	}
	for _, k := range set.keys {
		opts.Values = append(opts.Values, k+"="+escapeSetValue(set.m[k]))
	}
	for _, k := range setString.keys {
		opts.StringValues = append(opts.StringValues, k+"="+escapeSetValue(setString.m[k]))
	}
	setFile := newOrderedMap()
	for i, f := range req.FileParameters {
		p, err := write(fmt.Sprintf("set-file-%04d", i), "--set-file "+valueFileName(f.Name, i, "parameter"), f.Data)
		if err != nil {
			return nil, err
		}
		setFile.put(f.Name, p)
	}
	for _, k := range setFile.keys {
		opts.FileValues = append(opts.FileValues, k+"="+escapeSetValue(setFile.m[k]))
	}

	// No getters: every path is a local file (values.readFile falls back to os.ReadFile).
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		msg := err.Error()
		for p, name := range names {
			msg = strings.ReplaceAll(msg, p, name)
		}
		return nil, errors.New(msg)
	}
	return vals, nil
}

func valueFileName(name string, i int, what string) string {
	if name == "" {
		return fmt.Sprintf("%s #%d", what, i+1)
	}
	return name
}

// escapeSetValue reproduces Argo CD's util/helm/cmd.go cleanSetParameters: a parameter value
// is a literal, so every comma not already preceded by a backslash is escaped for helm's
// strvals parser, except for values written as a helm list `{a,b}`.
func escapeSetValue(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return v
	}
	var b strings.Builder
	var prev rune
	for _, r := range v {
		if r == ',' && prev != '\\' {
			b.WriteString(`\,`)
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

type orderedMap struct {
	keys []string
	m    map[string]string
}

func newOrderedMap() *orderedMap { return &orderedMap{m: map[string]string{}} }

func (o *orderedMap) put(k, v string) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// chartID is "name-version", the way helm names a packaged chart.
func chartID(c *chart.Chart) string {
	if c == nil || c.Metadata == nil {
		return "<nil chart>"
	}
	return c.Metadata.Name + "-" + c.Metadata.Version
}

// cloneChart copies everything Install.Run may modify: Metadata (dependency Enabled flags,
// aliases, import-values and the dependency list), Values and the subchart tree. Templates,
// files and the schema are shared read-only.
func cloneChart(c *chart.Chart) *chart.Chart {
	out := &chart.Chart{
		Raw:       c.Raw,
		Lock:      c.Lock,
		Templates: c.Templates,
		Values:    copyMap(c.Values),
		Schema:    c.Schema,
		Files:     c.Files,
	}
	if c.Metadata != nil {
		md := *c.Metadata
		if c.Metadata.Dependencies != nil {
			md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
			for i, d := range c.Metadata.Dependencies {
				if d == nil {
					continue
				}
				dc := *d
				dc.Tags = append([]string(nil), d.Tags...)
				dc.ImportValues = append([]interface{}(nil), d.ImportValues...)
				md.Dependencies[i] = &dc
			}
		}
		out.Metadata = &md
	}
	deps := c.Dependencies()
	if len(deps) > 0 {
		clones := make([]*chart.Chart, len(deps))
		for i, d := range deps {
			clones[i] = cloneChart(d)
		}
		out.SetDependencies(clones...)
	}
	return out
}

func copyMap(m map[string]interface{}) map[string]interface{} {
	if m == nil {
		return nil
	}
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		return copyMap(t)
	case chartutil.Values:
		return chartutil.Values(copyMap(t))
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}
