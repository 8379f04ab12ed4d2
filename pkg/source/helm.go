package source

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// NamedFile is a file Helm reads: a value file or a file parameter.
type NamedFile struct {
	// Name identifies the file to a user. For a value file it is the
	// valueFiles entry as written ("$values/environments/develop/addons/
	// argo-cd/values.yaml"); for a file matched by a glob entry it is the
	// match in the same notation ("$values/envs/a.yaml", or "envs/a.yaml"
	// relative to the source's directory). For a file parameter it is the
	// Helm key (fileParameters[].name) the content is set at.
	Name string
	// Path is the clean path of the file inside its repository (for a file
	// of the source itself: inside the local file system given to
	// ResolveHelm).
	Path string
	// Data is the file's content.
	Data []byte
	// Entry is the valueFiles entry or fileParameters[].path the file comes
	// from, as written in the Application (the pattern, for a glob match).
	Entry string
	// Repo is the repoURL of the `ref` source the file was read from, or ""
	// for a file of the source itself.
	Repo string
}

// Param is a Helm parameter: `--set Name=Value`, or `--set-string` when
// ForceString.
type Param struct {
	Name        string
	Value       string
	ForceString bool
}

// HelmInputs is everything Argo CD's repo-server hands to `helm template`
// for one source, besides the chart.
type HelmInputs struct {
	// ValueFiles are the value files, in the order Helm merges them (later
	// wins): `--values` flags.
	ValueFiles []NamedFile
	// Missing are the valueFiles entries skipped because of
	// ignoreMissingValueFiles: files that do not exist and globs that match
	// nothing, as written.
	Missing []string
	// Values is the inline values document (helm.valuesObject rendered as
	// YAML when set, else helm.values), nil when there is none. Argo CD
	// writes it to a temporary file passed as the last `--values`.
	Values []byte
	// ValuesField is "valuesObject" or "values": where Values comes from.
	ValuesField string
	// Parameters are the helm.parameters, in the order Helm applies them:
	// every `--set` first, then every `--set-string` (ForceString); a name
	// given twice keeps its last value (Argo CD builds a map). Values have
	// had Argo CD's build environment substituted ($ARGOCD_APP_NAME, ...).
	Parameters []Param
	// FileParameters are the helm.fileParameters (`--set-file`): Name is
	// the Helm key, Data the content of the file.
	FileParameters []NamedFile
	// where names the source in errors ("Application x spec.sources[1]").
	where string
}

// Options refine ResolveHelmWithOptions.
type Options struct {
	// AppPath is the source's directory inside local, the repo-server's
	// appPath; "" means local is the source's directory itself. With
	// AppPath set, local is the repository root as Argo CD sees it: a
	// relative value file resolves against AppPath and may leave it
	// ("../common/values.yaml") as long as it stays in the repository, and
	// an absolute one ("/common/values.yaml") resolves against the root.
	AppPath string
	// Revision is ARGOCD_APP_REVISION (the commit SHA the source resolved
	// to, or the chart version); empty means the source's targetRevision.
	Revision string
}

// ResolveHelm resolves the Helm inputs of app.Spec.Sources[srcIndex], or of
// app.Spec.Source when srcIndex < 0, as Argo CD's repo-server does before it
// runs `helm template` (reposerver/repository/repository.go helmTemplate).
// local holds the source's own files: the chart's files for a chart from a
// Helm repository, or the source's directory (path) of a Git repository;
// value files without a `$ref` resolve inside it and may not leave it. Use
// ResolveHelmWithOptions to give the whole repository and the source path.
//
// Value files (valueFiles):
//   - "$ref/path", where ref is the `ref` of another source of the same
//     Application (only Applications with more than one source have refs,
//     util/argo/argo.go GetRefSources), is read from that source's
//     repository, looked up by repoURL in repos, at its root even when the
//     ref source has a path (docs/user-guide/multiple_sources.md); path is
//     cleaned and may not leave the repository. A ref whose repository is
//     not in repos is an error, even with ignoreMissingValueFiles;
//   - in an Application with `sources`, an entry starting with "$x" where x
//     is no ref is an error ("source referenced ..."); with a single
//     `source` it is a local path after substitution of the build
//     environment, so "$x/values.yaml" is "/values.yaml" at the root;
//   - any other entry is a path relative to the source's directory ("/" at
//     the start: relative to the repository root), cleaned, and may not
//     leave the repository or be its root;
//   - "http://" and "https://" entries, which Argo CD passes to Helm to
//     download, are an error offline; any other URL scheme is an error as
//     in Argo CD with its default helm.valuesFileSchemes ("https,http");
//   - entries with '*', '?' or '[' are globs (see glob.go), expanded in
//     lexical order in place; a file also listed explicitly (anywhere in the
//     list) is left out of the expansion and stays at its explicit
//     position; a file listed twice keeps its first position;
//   - with ignoreMissingValueFiles, only files that do not exist and globs
//     that match nothing are skipped (and listed in Missing); otherwise a
//     missing file is an error naming it. A file that is not a YAML map
//     is an error naming it (Helm parses every value file);
//   - the build environment ($ARGOCD_APP_NAME, ..., reposerver newEnv) is
//     substituted in every entry (after the "$ref" of a ref entry), and
//     symbolic links are followed but may not lead out of the repository.
//
// The refs themselves are checked as Argo CD does: names match
// ^[a-zA-Z0-9_-]+$ and are unique, a ref source has no chart, and one
// repository is not referenced at two targetRevisions.
//
// Inline values: valuesObject when set (values is then ignored), else values
// (ApplicationSourceHelm.ValuesYAML). Parameters and file parameters: see
// HelmInputs; fileParameters[].path resolves like a value file, without
// globs and without ignoreMissingValueFiles.
func ResolveHelm(app *v1alpha1.Application, srcIndex int, repos *Repos, local fs.FS) (*HelmInputs, error) {
	return ResolveHelmWithOptions(app, srcIndex, repos, local, Options{})
}

// ResolveHelmWithOptions is ResolveHelm with Options.
func ResolveHelmWithOptions(app *v1alpha1.Application, srcIndex int, repos *Repos, local fs.FS, opts Options) (*HelmInputs, error) {
	src, where, err := pickSource(app, srcIndex)
	if err != nil {
		return nil, err
	}
	in := &HelmInputs{where: where}
	h := src.Helm
	if h == nil {
		return in, nil
	}
	appPath := path.Clean("/" + opts.AppPath)[1:]
	if appPath == "" {
		appPath = "."
	}
	r := &resolver{
		where:         where,
		local:         local,
		localKey:      "\x00local",
		appPath:       appPath,
		env:           buildEnv(app, src, opts.Revision),
		ignoreMissing: h.IgnoreMissingValueFiles,
		refs:          map[string]*refRoot{},
	}
	if opts.AppPath != "" && src.Chart == "" {
		// local is the checkout of the source's repository: a `$ref` to the
		// same repository reads the same files (and deduplicates with them).
		r.localKey = NormalizeRepoURL(src.RepoURL)
	}
	if err := r.setupRefs(app, h, repos); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	if in.ValueFiles, in.Missing, err = r.valueFiles(h.ValueFiles); err != nil {
		return nil, err
	}

	if data, field := valuesYAML(h); data != nil {
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: helm.%s: failed to parse: %w", where, field, err)
		}
		in.Values, in.ValuesField = data, field
	}

	in.Parameters = helmParameters(h.Parameters, r.env)

	for _, fp := range h.FileParameters {
		f, err := r.fileParameter(fp)
		if err != nil {
			return nil, err
		}
		in.FileParameters = append(in.FileParameters, f)
	}
	return in, nil
}

func pickSource(app *v1alpha1.Application, srcIndex int) (*v1alpha1.ApplicationSource, string, error) {
	if app == nil {
		return nil, "", errors.New("no Application")
	}
	if srcIndex < 0 {
		if app.Spec.Source == nil {
			return nil, "", fmt.Errorf("Application %s: no spec.source", app.Name)
		}
		return app.Spec.Source, fmt.Sprintf("Application %s spec.source", app.Name), nil
	}
	if srcIndex >= len(app.Spec.Sources) {
		return nil, "", fmt.Errorf("Application %s: no spec.sources[%d] (%d sources)", app.Name, srcIndex, len(app.Spec.Sources))
	}
	return &app.Spec.Sources[srcIndex], fmt.Sprintf("Application %s spec.sources[%d]", app.Name, srcIndex), nil
}

// controllerNamespace is the namespace of the hub's Argo CD.
const controllerNamespace = conventions.ArgoCDNamespace

// buildEnv is the build environment of reposerver/repository newEnv.
// ARGOCD_APP_NAME is the controller's q.AppName, Application.InstanceName:
// the name for an Application in Argo CD's own namespace ("argocd" here),
// "<namespace>_<name>" otherwise.
func buildEnv(app *v1alpha1.Application, src *v1alpha1.ApplicationSource, revision string) map[string]string {
	if revision == "" {
		revision = src.TargetRevision
	}
	appName := app.Name
	if app.Namespace != "" && app.Namespace != controllerNamespace {
		appName = app.Namespace + "_" + app.Name
	}
	short := func(n int) string {
		if len(revision) > n {
			return revision[:n]
		}
		return revision
	}
	return map[string]string{
		"ARGOCD_APP_NAME":                   appName,
		"ARGOCD_APP_NAMESPACE":              app.Spec.Destination.Namespace,
		"ARGOCD_APP_PROJECT_NAME":           app.Spec.Project,
		"ARGOCD_APP_REVISION":               revision,
		"ARGOCD_APP_REVISION_SHORT":         short(7),
		"ARGOCD_APP_REVISION_SHORT_8":       short(8),
		"ARGOCD_APP_SOURCE_REPO_URL":        src.RepoURL,
		"ARGOCD_APP_SOURCE_PATH":            src.Path,
		"ARGOCD_APP_SOURCE_TARGET_REVISION": src.TargetRevision,
	}
}

// envsubst is v1alpha1.Env.Envsubst: os.Expand where "$$" is "$" and an
// unknown variable is empty.
func envsubst(env map[string]string, s string) string {
	return os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		return env[name]
	})
}

// valuesYAML is ApplicationSourceHelm.ValuesYAML, or nil when
// ValuesIsEmpty.
func valuesYAML(h *v1alpha1.ApplicationSourceHelm) ([]byte, string) {
	if h.ValuesObject == nil || h.ValuesObject.Raw == nil {
		if h.Values == "" {
			return nil, ""
		}
		return []byte(h.Values), "values"
	}
	out, err := yaml.JSONToYAML(h.ValuesObject.Raw)
	if err != nil || len(out) == 0 {
		return nil, ""
	}
	return out, "valuesObject"
}

// helmParameters orders parameters as `helm template` applies them: Argo CD
// collects --set and --set-string parameters in two maps (a repeated name
// keeps its last value) and Helm applies every --set before every
// --set-string (helm pkg/cli/values/options.go MergeValues). Argo CD's own
// order among different names is Go's map order; this keeps the order of
// the Application.
func helmParameters(params []v1alpha1.HelmParameter, env map[string]string) []Param {
	var set, setString []Param
	add := func(list []Param, p Param) []Param {
		if i := slices.IndexFunc(list, func(q Param) bool { return q.Name == p.Name }); i >= 0 {
			list[i].Value = p.Value
			return list
		}
		return append(list, p)
	}
	for _, p := range params {
		q := Param{Name: p.Name, Value: envsubst(env, p.Value), ForceString: p.ForceString}
		if p.ForceString {
			setString = add(setString, q)
		} else {
			set = add(set, q)
		}
	}
	return append(set, setString...)
}

// SetExpression is the argument of the `--set`/`--set-string` flag Argo CD
// passes for p (util/helm/cmd.go template): commas in the value are
// escaped, unless the value is a {list}, so that Helm reads one
// assignment.
func SetExpression(p Param) string {
	v := p.Value
	if !(strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}")) {
		var b strings.Builder
		var prev rune
		for _, c := range v {
			if c == ',' && prev != '\\' {
				b.WriteString(`\,`)
			} else {
				b.WriteRune(c)
			}
			prev = c
		}
		v = b.String()
	}
	return p.Name + "=" + v
}

// refRoot is a `ref` source.
type refRoot struct {
	source *v1alpha1.ApplicationSource
	fsys   fs.FS
	key    string // normalized repoURL
}

var refName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

type resolver struct {
	where         string
	local         fs.FS
	localKey      string
	appPath       string
	env           map[string]string
	ignoreMissing bool
	multi         bool                // the Application has spec.sources
	refs          map[string]*refRoot // "$name" → source
}

// setupRefs validates the sources' refs (util/argo/argo.go GetRefSources)
// and the `$ref` entries of the value files and file parameters, and finds
// the referenced repositories (reposerver forEachRefSource).
func (r *resolver) setupRefs(app *v1alpha1.Application, h *v1alpha1.ApplicationSourceHelm, repos *Repos) error {
	r.multi = len(app.Spec.Sources) > 0
	if len(app.Spec.Sources) > 1 {
		for i := range app.Spec.Sources {
			s := &app.Spec.Sources[i]
			if s.Ref == "" {
				continue
			}
			if !refName.MatchString(s.Ref) {
				return fmt.Errorf("sources.ref %s cannot contain any special characters except '_' and '-'", s.Ref)
			}
			if _, dup := r.refs["$"+s.Ref]; dup {
				return errors.New("invalid sources: multiple sources had the same `ref` key")
			}
			r.refs["$"+s.Ref] = &refRoot{source: s, key: NormalizeRepoURL(s.RepoURL)}
		}
	}
	if !r.multi {
		r.refs = map[string]*refRoot{}
		return nil
	}
	candidates := slices.Clone(h.ValueFiles)
	for _, fp := range h.FileParameters {
		candidates = append(candidates, fp.Path)
	}
	type seenRef struct{ refVar, revision string }
	seen := map[string]seenRef{}
	for _, c := range candidates {
		refVar := referencedName(c)
		if refVar == "" {
			continue
		}
		ref, ok := r.refs[refVar]
		if !ok {
			if len(r.refs) == 0 {
				return fmt.Errorf("source referenced %q, but no source has a 'ref' field defined", refVar)
			}
			keys := make([]string, 0, len(r.refs))
			for k := range r.refs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return fmt.Errorf("source referenced %q, which is not one of the available sources (%s)", refVar, strings.Join(keys, ", "))
		}
		if ref.source.Chart != "" {
			return errors.New("source has a 'chart' field defined, but Helm charts are not yet not supported for 'ref' sources")
		}
		if prev, ok := seen[ref.key]; ok && prev.revision != ref.source.TargetRevision {
			return fmt.Errorf("cannot reference multiple revisions for the same repository (%s references %q while %s references %q)", refVar, ref.source.TargetRevision, prev.refVar, prev.revision)
		} else if !ok {
			seen[ref.key] = seenRef{refVar, ref.source.TargetRevision}
		}
		if ref.fsys == nil {
			fsys, ok := repos.Lookup(ref.source.RepoURL)
			if !ok {
				return fmt.Errorf("%q: repository %s of the source with ref %q is not available offline", c, ref.source.RepoURL, strings.TrimPrefix(refVar, "$"))
			}
			ref.fsys = fsys
		}
	}
	return nil
}

// referencedName is the "$name" an entry starts with, or "".
func referencedName(entry string) string {
	if !strings.HasPrefix(entry, "$") {
		return ""
	}
	name, _, _ := strings.Cut(entry, "/")
	return name
}

// target is a resolved value file entry.
type target struct {
	remote bool
	url    string
	fsys   fs.FS
	key    string // identifies fsys: a normalized repoURL, or the local marker
	repo   string // repoURL of the ref source, "" for local
	refVar string // "$name" for a ref entry
	path   string // clean, relative to the root of fsys
}

func (t target) id() string {
	if t.remote {
		return "url\x00" + t.url
	}
	return t.key + "\x00" + t.path
}

// rootSentinel stands for the repository root while cleaning paths, so that
// ".." out of the root is visible (path.Clean would drop it at "/").
const rootSentinel = "/.hubctl-repository-root"

// within cleans p against the root (absolute p) or dir (relative p), and
// returns it relative to the root (util/io/path resolveFileOrDirectory).
func within(dir, p string) (string, error) {
	var full string
	if path.IsAbs(p) {
		full = path.Join(rootSentinel, p)
	} else {
		full = path.Join(rootSentinel, dir, p)
	}
	if full == rootSentinel {
		return "", errors.New("path resolved to repository root, which is not allowed")
	}
	rel, ok := strings.CutPrefix(full, rootSentinel+"/")
	if !ok {
		return "", fmt.Errorf("file '%s' resolved to outside repository root", p)
	}
	return rel, nil
}

// resolve resolves one entry without expanding globs or checking that the
// file exists (resolveRawPath).
func (r *resolver) resolve(entry string) (target, error) {
	if refVar := referencedName(entry); refVar != "" {
		if ref, ok := r.refs[refVar]; ok {
			_, rest, _ := strings.Cut(entry, "/")
			if strings.Trim(rest, "/") == "" {
				return target{}, fmt.Errorf("invalid value file path %q: no file path after the ref name", entry)
			}
			// Leading "/": the path is relative to the root of the ref
			// source, and can never be read as a URL.
			p, err := within(".", envsubst(r.env, "/"+rest))
			if err != nil {
				return target{}, err
			}
			if p, err = resolveLinks(ref.fsys, p); err != nil {
				return target{}, err
			}
			return target{fsys: ref.fsys, key: ref.key, repo: ref.source.RepoURL, refVar: refVar, path: p}, nil
		}
	}
	v := envsubst(r.env, entry)
	if u, err := url.Parse(v); err == nil && u.Scheme != "" {
		if strings.EqualFold(u.Scheme, "https") || strings.EqualFold(u.Scheme, "http") {
			return target{remote: true, url: v}, nil
		}
		return target{}, fmt.Errorf("the URL scheme '%s' is not allowed", u.Scheme)
	}
	p, err := within(r.appPath, v)
	if err != nil {
		return target{}, err
	}
	if p, err = resolveLinks(r.local, p); err != nil {
		return target{}, err
	}
	return target{fsys: r.local, key: r.localKey, path: p}, nil
}

// resolveLinks follows the symbolic links of p inside fsys (when fsys
// reports them: fs.ReadLinkFS) and fails when one leads out of it, as the
// repo-server's path resolution and its out-of-bounds symlink check do.
func resolveLinks(fsys fs.FS, p string) (string, error) {
	if _, ok := fsys.(fs.ReadLinkFS); !ok {
		return p, nil
	}
	pending := strings.Split(p, "/")
	var done []string
	for hops := 0; len(pending) > 0; {
		elem := pending[0]
		pending = pending[1:]
		switch elem {
		case ".", "":
			continue
		case "..":
			if len(done) == 0 {
				return "", fmt.Errorf("file '%s' resolved to outside repository root", p)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := strings.Join(append(done, elem), "/")
		fi, err := fs.Lstat(fsys, cur)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, elem)
			if err != nil { // does not exist (yet): nothing more to follow
				done = append(done, pending...)
				pending = nil
			}
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("file '%s': too many levels of symbolic links", p)
		}
		dest, err := fs.ReadLink(fsys, cur)
		if err != nil {
			return "", err
		}
		if dest == "" || path.IsAbs(dest) {
			return "", fmt.Errorf("file '%s' resolved to outside repository root", p)
		}
		pending = append(strings.Split(dest, "/"), pending...)
	}
	if len(done) == 0 {
		return "", errors.New("path resolved to repository root, which is not allowed")
	}
	return path.Clean(strings.Join(done, "/")), nil
}

// valueFiles resolves the valueFiles list (valueFileResolver.ResolveValueFiles)
// and reads the files.
func (r *resolver) valueFiles(entries []string) ([]NamedFile, []string, error) {
	// Files listed explicitly keep their explicit position: globs skip them.
	explicit := map[string]bool{}
	for _, e := range entries {
		if t, err := r.resolve(e); err == nil && !isGlob(t.path) && !t.remote {
			explicit[t.id()] = true
		}
	}
	type item struct {
		t     target
		name  string
		entry string
	}
	var items []item
	var missing []string
	seen := map[string]bool{}
	add := func(it item) {
		if !seen[it.t.id()] {
			seen[it.t.id()] = true
			items = append(items, it)
		}
	}
	for _, e := range entries {
		t, err := r.resolve(e)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: value file %q: %w", r.where, e, err)
		}
		if !t.remote && isGlob(t.path) {
			matches, err := globFS(t.fsys, t.path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: value file %q: error expanding glob pattern: %w", r.where, e, err)
			}
			if len(matches) == 0 {
				if r.ignoreMissing {
					missing = append(missing, e)
					continue
				}
				return nil, nil, fmt.Errorf("%s: values file glob %q matched no files", r.where, e)
			}
			for _, m := range matches {
				rm, err := resolveLinks(t.fsys, m)
				if err == nil {
					_, err = fs.Stat(t.fsys, rm)
				}
				if err != nil {
					return nil, nil, fmt.Errorf("%s: glob pattern %q: glob match %q resolved to outside repository root", r.where, e, m)
				}
				mt := t
				mt.path = rm
				if explicit[mt.id()] {
					continue
				}
				add(item{t: mt, name: r.displayName(t, m), entry: e})
			}
			continue
		}
		if !t.remote && r.ignoreMissing {
			if _, err := fs.Stat(t.fsys, t.path); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, e)
				continue
			}
		}
		add(item{t: t, name: e, entry: e})
	}

	var files []NamedFile
	for _, it := range items {
		f, err := r.read(it.t, it.name, it.entry, "value file")
		if err != nil {
			return nil, nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(f.Data, &m); err != nil {
			return nil, nil, fmt.Errorf("%s: value file %q (%s): failed to parse: %w", r.where, it.name, r.describe(it.t), err)
		}
		files = append(files, f)
	}
	return files, missing, nil
}

// displayName writes a glob match in the notation of its entry.
func (r *resolver) displayName(t target, match string) string {
	if t.refVar != "" {
		return t.refVar + "/" + match
	}
	return relPath(r.appPath, match)
}

func (r *resolver) describe(t target) string {
	if t.remote {
		return t.url
	}
	if t.repo != "" {
		return fmt.Sprintf("%s in %s", t.path, t.repo)
	}
	return t.path
}

// read reads a resolved file; what is "value file" or "file parameter".
func (r *resolver) read(t target, name, entry, what string) (NamedFile, error) {
	if t.remote {
		return NamedFile{}, fmt.Errorf("%s: %s %q: remote value files are not fetched offline (Argo CD passes %s to helm, which downloads it when rendering)", r.where, what, entry, t.url)
	}
	fi, err := fs.Stat(t.fsys, t.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NamedFile{}, fmt.Errorf("%s: %s %q: %s does not exist", r.where, what, name, r.describe(t))
	case err != nil:
		return NamedFile{}, fmt.Errorf("%s: %s %q: %w", r.where, what, name, err)
	case fi.IsDir():
		return NamedFile{}, fmt.Errorf("%s: %s %q: %s is a directory", r.where, what, name, r.describe(t))
	}
	data, err := loader.ReadFileLimit(t.fsys, t.path)
	if err != nil {
		return NamedFile{}, fmt.Errorf("%s: %s %q: %w", r.where, what, name, err)
	}
	return NamedFile{Name: name, Path: t.path, Data: data, Entry: entry, Repo: t.repo}, nil
}

// fileParameter resolves and reads a --set-file parameter
// (valueFileResolver.ResolveFile: no glob, no existence check, so a missing
// file is an error whatever ignoreMissingValueFiles says).
func (r *resolver) fileParameter(fp v1alpha1.HelmFileParameter) (NamedFile, error) {
	t, err := r.resolve(fp.Path)
	if err != nil {
		return NamedFile{}, fmt.Errorf("%s: file parameter %s: path %q: %w", r.where, fp.Name, fp.Path, err)
	}
	f, err := r.read(t, fp.Path, fp.Path, "file parameter "+fp.Name+": file")
	if err != nil {
		return NamedFile{}, err
	}
	f.Name = fp.Name
	return f, nil
}
