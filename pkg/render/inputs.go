package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/render/manifests"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// InputDigest is a digest of everything the render of ga reads, without
// rendering it: the Application's name, destination namespace and sources,
// the Kubernetes version and API versions, the value files, inline values
// and parameters each Helm source resolves to (read from the repositories of
// the Options, that is from one Git revision), and the files of a source
// directory of this repository. Two Renderers (one per revision) give equal
// digests only when both renders would produce the same objects, so
// `hubctl diff` renders an Application that did not change on neither side.
//
// A chart of a Helm repository is identified by its repository, name and
// version (a published chart version does not change). ok is false when the
// inputs cannot be told without rendering (a Kustomize or plugin source, a
// Jsonnet directory, a repository not available offline, a source that does
// not resolve): the caller must then render.
func (r *Renderer) InputDigest(ctx context.Context, ga *generate.Application) (digest string, ok bool) {
	app, err := typed(ga)
	if err != nil {
		return "", false
	}
	srcs := app.Spec.Sources
	single := len(srcs) == 0
	if single {
		if app.Spec.Source == nil {
			return "", false
		}
		srcs = []v1alpha1.ApplicationSource{*app.Spec.Source}
	}
	h := sha256.New()
	write := func(v any) {
		b, _ := json.Marshal(v)
		h.Write(b)
		h.Write([]byte{0})
	}
	write([]any{app.Name, app.Spec.Destination.Namespace, srcs, r.opts.KubeVersion, r.opts.APIVersions})
	for i := range srcs {
		if ctx.Err() != nil {
			return "", false
		}
		s := &srcs[i]
		if s.Ref != "" && s.Chart == "" && s.Path == "" {
			continue // provides files only; what is read from it is in the value files
		}
		idx := i
		if single {
			idx = -1
		}
		if s.Chart != "" {
			// Value files relative to the chart come from the chart, which
			// the source pins; an empty local file system leaves them out of
			// the digest (or fails, and the caller renders).
			in, err := source.ResolveHelmWithOptions(app, idx, r.opts.Repos, fstest.MapFS{}, source.Options{})
			if err != nil {
				return "", false
			}
			write(in)
			continue
		}
		repo, found := r.opts.Repos.Lookup(s.RepoURL)
		if !found {
			return "", false
		}
		dir := path.Clean(strings.TrimPrefix(s.Path, "/"))
		if strings.HasPrefix(dir, "../") || dir == ".." {
			return "", false
		}
		typ, err := manifests.SourceType(repo, dir, s)
		if err != nil {
			return "", false
		}
		switch typ {
		case manifests.SourceTypeDirectory:
			if s.Directory != nil && !s.Directory.Jsonnet.IsZero() {
				return "", false // Jsonnet may import files outside the directory
			}
		case manifests.SourceTypeHelm:
			in, err := source.ResolveHelmWithOptions(app, idx, r.opts.Repos, repo, source.Options{AppPath: dir})
			if err != nil {
				return "", false
			}
			write(in)
		default:
			return "", false // Kustomize may read anywhere (bases, components)
		}
		if err := hashTree(h, repo, dir); err != nil {
			return "", false
		}
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// hashTree writes the names and contents of every file under dir.
func hashTree(h interface{ Write([]byte) (int, error) }, fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		_, err = h.Write(data)
		return err
	})
}

// Options returns the Renderer's options (a new Renderer with them renders
// again, without the memo of this one).
func (r *Renderer) Options() Options { return r.opts }
