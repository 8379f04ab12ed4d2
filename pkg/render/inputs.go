package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"testing/fstest"

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
	// The one walk that render and values use (source.AppSources and
	// source.Resolver), so that diff never sees other sources or paths.
	srcs, err := source.AppSources(app)
	if err != nil {
		return "", false
	}
	h := sha256.New()
	write := func(v any) {
		b, _ := json.Marshal(v)
		h.Write(b)
		h.Write([]byte{0})
	}
	write([]any{app.Name, app.Spec.Destination.Namespace, app.Spec.Source, app.Spec.Sources, r.opts.KubeVersion, r.opts.APIVersions})
	res := &source.Resolver{Repos: r.opts.Repos}
	for _, as := range srcs {
		if ctx.Err() != nil {
			return "", false
		}
		s := as.Source
		if s.Chart != "" {
			// Value files relative to the chart come from the chart, which
			// the source pins; an empty file system leaves them out of the
			// digest (or fails, and the caller renders).
			in, err := res.Helm(app, as, fstest.MapFS{})
			if err != nil {
				return "", false
			}
			write(in)
			continue
		}
		repo, dir, err := res.GitSource(s)
		if err != nil {
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
			in, err := res.Helm(app, as, nil)
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
