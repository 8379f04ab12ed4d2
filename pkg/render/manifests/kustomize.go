package manifests

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
)

// ErrRemoteUnsupported is wrapped by the error returned when a kustomization
// (or an Application's kustomize option) refers to something kustomize
// would download: a remote base or component (git URL), or a file given by
// an http(s) URL.
var ErrRemoteUnsupported = errors.New("remote kustomize references cannot be fetched offline")

// KustomizeOptions are the parts of the repo-server's configuration that
// change a kustomize build. The zero value is Argo CD's default.
type KustomizeOptions struct {
	// Env is the build environment Argo CD substitutes ($VAR, ${VAR}; $$
	// for a literal $) in kustomize.images, in kustomize.commonLabels
	// values and, with commonAnnotationsEnvsubst, in commonAnnotations
	// values: ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE,
	// ARGOCD_APP_PROJECT_NAME, ARGOCD_APP_REVISION,
	// ARGOCD_APP_REVISION_SHORT, ARGOCD_APP_REVISION_SHORT_8,
	// ARGOCD_APP_SOURCE_REPO_URL, ARGOCD_APP_SOURCE_PATH and
	// ARGOCD_APP_SOURCE_TARGET_REVISION (newEnv in repository.go). A
	// variable not in Env expands to "", as upstream.
	Env map[string]string
	// LoadRestrictionsNone is kustomize.buildOptions
	// "--load-restrictor LoadRestrictionsNone" in argocd-cm.
	LoadRestrictionsNone bool
}

// Kustomize renders a Kustomize source like Argo CD's kustomize Build
// (util/kustomize/kustomize.go) with the default repo-server settings; see
// KustomizeWithOptions.
func Kustomize(fsys fs.FS, dir string, opts *v1alpha1.ApplicationSourceKustomize) ([]map[string]any, error) {
	return KustomizeWithOptions(fsys, dir, opts, KustomizeOptions{})
}

// krustyMu serialises kustomize builds: kustomize keeps its OpenAPI schema
// in package state and is not safe for concurrent builds.
var krustyMu sync.Mutex

// KustomizeWithOptions renders the kustomization in dir of fsys as Argo
// CD's repo-server does: it applies the Application's kustomize options to
// (a copy of) the kustomization file the way upstream's `kustomize edit`
// calls do, then runs `kustomize build` (kustomize's krusty API, same
// defaults as the CLI: root-only load restrictor, no plugins, no Helm,
// legacy output order unless the kustomization sets sortOptions) on an
// in-memory copy of fsys. Nothing is fetched: a remote base, component or
// file is an error wrapping ErrRemoteUnsupported.
//
// The options, in upstream's order (each like the `kustomize edit` command
// Argo CD runs):
//
//   - namePrefix, nameSuffix, namespace: set (replace) the field;
//   - images: `edit set image`: each "[name=]newName[:tag][@digest]" (after
//     env substitution) replaces the images entry of the same name, "*" keeps
//     the existing newName/tag/digest; entries end up sorted by name;
//   - replicas: `edit set replicas name=count` (count must be an integer);
//   - commonLabels: `edit add label` (values env-substituted): into
//     commonLabels (labels on selectors too), or with labelWithoutSelector
//     into a `labels` entry without selectors (labelIncludeTemplates adds
//     includeTemplates and requires labelWithoutSelector); a label already
//     in the kustomization is an error unless forceCommonLabels;
//   - commonAnnotations: `edit add annotation` (values env-substituted only
//     with commonAnnotationsEnvsubst); an existing key is an error unless
//     forceCommonAnnotations;
//   - patches: appended to the kustomization's patches;
//   - components: `edit add component` (paths relative to dir, globs
//     allowed, a missing one is an error); with ignoreMissingComponents the
//     ones missing are left out first (checked, like upstream, with the
//     path confined to dir, so "../x" is looked up as dir/x).
//
// version (kustomize binary), kubeVersion and apiVersions (Helm charts
// inflated by kustomize --enable-helm) have no effect offline: the bundled
// kustomize API is used and Helm inflation is off, as in Argo CD's default
// configuration.
//
// Two effects come from kustomize itself, in-process: its deprecation
// warnings (commonLabels, bases, ...) go to this process's stderr, and an
// env file line without "=" (configMapGenerator envs) takes its value from
// this process's environment, where Argo CD's kustomize sees the
// repo-server's environment plus the ARGOCD_APP_* variables.
//
// Without a kustomization file in dir, Argo CD only runs kustomize when the
// Application sets kustomize options; with none set (nil or IsZero) it
// treats dir as a plain directory, and so does this function. With options
// set it is an error, as `kustomize edit`/`build` fails upstream.
func KustomizeWithOptions(fsys fs.FS, dir string, opts *v1alpha1.ApplicationSourceKustomize, o KustomizeOptions) ([]map[string]any, error) {
	dir, err := cleanDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	kname, err := findKustomization(fsys, dir)
	if err != nil {
		return nil, err
	}
	if kname == "" {
		if opts.IsZero() {
			return Directory(fsys, dir, nil)
		}
		return nil, fmt.Errorf("%s: missing kustomization file (one of %s): spec.source.kustomize is set, so Argo CD runs kustomize here, and kustomize fails without one",
			dir, strings.Join(konfig.RecognizedKustomizationFileNames(), ", "))
	}
	mem, err := memFS(fsys)
	if err != nil {
		return nil, err
	}
	root := absPath(dir)
	if opts != nil {
		if err := applyArgoEdits(mem, fsys, dir, path.Join(root, kname), opts, o.Env); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(dir, kname), err)
		}
	}
	if err := (&remoteScan{fs: mem, seen: map[string]bool{}}).dir(root); err != nil {
		return nil, err
	}
	kopts := &krusty.Options{
		// The CLI's --reorder default: legacy order, unless the
		// kustomization has sortOptions.
		Reorder:          krusty.ReorderOptionUnspecified,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	}
	if o.LoadRestrictionsNone {
		kopts.LoadRestrictions = types.LoadRestrictionsNone
	}
	krustyMu.Lock()
	resMap, err := krusty.MakeKustomizer(kopts).Run(mem, root)
	var out []byte
	if err == nil {
		out, err = resMap.AsYaml()
	}
	krustyMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	objs, err := SplitYAML(out)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return objs, nil
}

// absPath maps a path of fsys to the in-memory file system, rooted at "/".
func absPath(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}

// findKustomization returns the name of dir's kustomization file, "" when
// there is none. Several is an error, as for kustomize.
func findKustomization(fsys fs.FS, dir string) (string, error) {
	var found []string
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if fi, err := fs.Stat(fsys, path.Join(dir, n)); err == nil && !fi.IsDir() {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%s: found multiple kustomization files (%s)", dir, strings.Join(found, ", "))
	}
}

// memFS copies the regular files of fsys (symlinks to files followed, .git
// directories left out) into an in-memory kustomize file system, so that
// kustomize reads nothing but the repository: its own disk file system
// would follow links anywhere. As Argo CD's repo-server (which refuses a
// repository with an out-of-bounds symlink anywhere in it), a link that
// leaves the repository is an error, and so is a FIFO, socket or device
// (which fsys refuses to open, see gitfs.WorkTree): the message names the
// file. Dangling links and links to directories are skipped.
func memFS(fsys fs.FS) (filesys.FileSystem, error) {
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return mem.MkdirAll(absPath(p))
		}
		fi, err := fs.Stat(fsys, p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // dangling symlink
		case err != nil:
			return err // a link out of the repository, a loop...
		case fi.IsDir():
			return nil // symlinked directory
		}
		if err := gitfs.CheckRegular("read", p, fi); err != nil {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return mem.WriteFile(absPath(p), data)
	})
	if err != nil {
		return nil, fmt.Errorf("copying the repository for kustomize: %w", err)
	}
	return mem, nil
}

// needsEdit reports whether upstream runs a `kustomize edit` (or rewrites
// the kustomization) for these options.
func needsEdit(k *v1alpha1.ApplicationSourceKustomize) bool {
	return k.NamePrefix != "" || k.NameSuffix != "" || len(k.Images) > 0 || len(k.Replicas) > 0 ||
		len(k.CommonLabels) > 0 || len(k.CommonAnnotations) > 0 || k.Namespace != "" ||
		len(k.Patches) > 0 || len(k.Components) > 0
}

// applyArgoEdits reproduces, on the kustomization file kpath of mem, what
// upstream's Build does before `kustomize build` (applyNamePrefix ...
// applyComponents), with the semantics of kustomize's `edit` commands: the
// file is read like `kustomize edit` reads it (strict, legacy fields
// folded in), changed, and written back.
func applyArgoEdits(mem filesys.FileSystem, fsys fs.FS, dir, kpath string, opts *v1alpha1.ApplicationSourceKustomize, env map[string]string) error {
	if !needsEdit(opts) {
		return nil
	}
	data, err := mem.ReadFile(kpath)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return err
	}
	k.FixKustomization()

	if opts.NamePrefix != "" {
		k.NamePrefix = opts.NamePrefix
	}
	if opts.NameSuffix != "" {
		k.NameSuffix = opts.NameSuffix
	}
	if len(opts.Images) > 0 {
		args := make([]string, len(opts.Images))
		for i, img := range opts.Images {
			args[i] = envsubst(env, string(img))
		}
		if err := setImages(&k, args); err != nil {
			return fmt.Errorf("kustomize edit set image: %w", err)
		}
	}
	if len(opts.Replicas) > 0 {
		if err := setReplicas(&k, opts.Replicas); err != nil {
			return fmt.Errorf("kustomize edit set replicas: %w", err)
		}
	}
	if len(opts.CommonLabels) > 0 {
		if opts.LabelIncludeTemplates && !opts.LabelWithoutSelector {
			return errors.New("kustomize edit add label: --without-selector flag must be specified for --include-templates to work (labelIncludeTemplates requires labelWithoutSelector)")
		}
		vals := map[string]string{}
		for name, v := range opts.CommonLabels {
			vals[name] = envsubst(env, v)
		}
		m, err := parseMetadataArgs(vals, "label")
		if err != nil {
			return fmt.Errorf("kustomize edit add label: %w", err)
		}
		if err := addLabels(&k, m, opts.ForceCommonLabels, opts.LabelWithoutSelector, opts.LabelIncludeTemplates); err != nil {
			return fmt.Errorf("kustomize edit add label: %w", err)
		}
	}
	if len(opts.CommonAnnotations) > 0 {
		vals := map[string]string{}
		for name, v := range opts.CommonAnnotations {
			if opts.CommonAnnotationsEnvsubst {
				v = envsubst(env, v)
			}
			vals[name] = v
		}
		m, err := parseMetadataArgs(vals, "annotation")
		if err != nil {
			return fmt.Errorf("kustomize edit add annotation: %w", err)
		}
		if k.CommonAnnotations == nil {
			k.CommonAnnotations = map[string]string{}
		}
		if err := writeMetadata(k.CommonAnnotations, m, opts.ForceCommonAnnotations, "annotation"); err != nil {
			return fmt.Errorf("kustomize edit add annotation: %w", err)
		}
	}
	if opts.Namespace != "" {
		k.Namespace = opts.Namespace
	}
	if len(opts.Patches) > 0 {
		p, err := convertPatches(opts.Patches)
		if err != nil {
			return fmt.Errorf("adding kustomize.patches: %w", err)
		}
		k.Patches = append(k.Patches, p...)
	}
	if len(opts.Components) > 0 {
		if err := addComponents(&k, fsys, dir, opts.Components, opts.IgnoreMissingComponents); err != nil {
			return fmt.Errorf("kustomize edit add component: %w", err)
		}
	}

	out, err := marshalKustomization(&k)
	if err != nil {
		return err
	}
	return mem.WriteFile(kpath, out)
}

// envsubst is upstream's Env.Envsubst: os.Expand with "$$" meaning "$" and
// unknown variables expanding to "".
func envsubst(env map[string]string, s string) string {
	return os.Expand(s, func(v string) string {
		if v == "$" {
			return "$"
		}
		return env[v]
	})
}
