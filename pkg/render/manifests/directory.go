// Package manifests renders, offline, the non-Helm sources of an Argo CD
// Application exactly as Argo CD's repo-server does: plain directories of
// YAML/JSON manifests (argoproj/argo-cd reposerver/repository/repository.go,
// findManifests) and Kustomize overlays (util/kustomize/kustomize.go,
// Build), the latter with kustomize's own API on an in-memory copy of the
// repository, without network access.
package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/gobwas/glob"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// MaxCombinedDirectoryManifestsSize bounds the combined size of the
// manifest files of a directory source, as the repo-server's
// --max-combined-directory-manifests-size does (default "10M", a
// resource.Quantity: 10,000,000 bytes). Jsonnet files do not count. Zero
// disables the check.
var MaxCombinedDirectoryManifestsSize int64 = 10_000_000

// ErrExceededMaxCombinedManifestFileSize is returned when the manifest
// files of a directory exceed MaxCombinedDirectoryManifestsSize (upstream's
// error of the same name and text).
var ErrExceededMaxCombinedManifestFileSize = errors.New("exceeded max combined manifest file size")

// ErrJsonnetUnsupported is wrapped by the error returned for a Jsonnet file
// that a directory source would evaluate.
var ErrJsonnetUnsupported = errors.New("jsonnet is not supported offline")

// manifestFile is upstream's filter on file names (case-sensitive).
var manifestFile = regexp.MustCompile(`^.*\.(yaml|yml|json|jsonnet)$`)

// skipFileRenderingMarker in a file's content makes the repo-server skip it.
const skipFileRenderingMarker = "+argocd:skip-file-rendering"

// Directory renders a plain directory source like Argo CD's findManifests
// (reposerver/repository/repository.go):
//
//   - the files of dir named *.yaml, *.yml, *.json (and *.jsonnet), in
//     lexical walk order; subdirectories only with directory.recurse;
//     symlinks to regular files are followed, other non-regular files are
//     skipped;
//   - directory.exclude, then directory.include, are matched against the
//     path relative to dir with Argo CD's glob (github.com/gobwas/glob
//     without separators: `*` also matches `/`, `{a.yaml,b.yaml}` brace
//     sets, `[a-z]` classes, `?`); an invalid pattern matches nothing;
//   - a file containing "+argocd:skip-file-rendering" is skipped;
//   - *.yaml/*.yml: every document of the stream (empty ones dropped); a
//     *.json file holds exactly one JSON value, an object (a JSON array is
//     an error, as upstream);
//   - objects whose `items` is a list (kind: List, ConfigMapList, ...) are
//     replaced by their items, as GenerateManifests does;
//   - a YAML file whose first document does not decode as an object with a
//     kind is silently ignored unless the file contains "apiVersion:",
//     "kind:" and "metadata:" (upstream's rule for values files and the
//     like living next to manifests); once one document of a file decoded,
//     a later bad document is an error. Errors name the file and, when
//     known, the line;
//   - a *.jsonnet file that is not excluded is an error wrapping
//     ErrJsonnetUnsupported (the repo-server evaluates it with go-jsonnet).
//
// dir is a slash-separated path in fsys ("." for its root). The returned
// objects are fresh maps with JSON-typed values (int64/float64 numbers).
func Directory(fsys fs.FS, dir string, opts *v1alpha1.ApplicationSourceDirectory) ([]map[string]any, error) {
	if opts == nil {
		opts = &v1alpha1.ApplicationSourceDirectory{}
	}
	dir, err := cleanDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	files, err := potentiallyValidManifests(fsys, dir, opts.Recurse, opts.Include, opts.Exclude)
	if err != nil {
		return nil, fmt.Errorf("failed to get potentially valid manifests: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if strings.HasSuffix(f.name, ".jsonnet") {
			return nil, fmt.Errorf("%s: %w (Argo CD evaluates Jsonnet files of a directory source; exclude it with spec.source.directory.exclude if it is not a manifest)", f.path, ErrJsonnetUnsupported)
		}
		if strings.HasSuffix(f.name, ".json") {
			obj, err := decodeJSONFile(f.data)
			if err != nil {
				return nil, fmt.Errorf("failed to unmarshal %s: %w", f.path, err)
			}
			objs = append(objs, obj)
			continue
		}
		docs, err := splitYAMLOrJSON(f.data)
		if err != nil {
			// Upstream: an error after at least one good document means
			// a broken manifest; an error on the first one is only
			// reported when the file looks like a Kubernetes manifest,
			// otherwise the file is some other YAML and is ignored.
			if len(docs) > 0 || looksLikeManifest(f.data) {
				return nil, fmt.Errorf("failed to unmarshal %s: %w", f.path, err)
			}
			continue
		}
		objs = append(objs, docs...)
	}
	return expandLists(objs)
}

func looksLikeManifest(b []byte) bool {
	return bytes.Contains(b, []byte("apiVersion:")) &&
		bytes.Contains(b, []byte("kind:")) &&
		bytes.Contains(b, []byte("metadata:"))
}

// cleanDir validates dir, which must be a directory of fsys.
func cleanDir(fsys fs.FS, dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	dir = path.Clean(strings.TrimPrefix(dir, "/"))
	if !fs.ValidPath(dir) {
		return "", fmt.Errorf("app path %q is not a valid path in the repository", dir)
	}
	fi, err := fs.Stat(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("app path %q does not exist", dir)
		}
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("app path %q is not a directory", dir)
	}
	return dir, nil
}

type manifestCandidate struct {
	path string // path in fsys, for messages
	name string // base name
	data []byte // decoded text
}

// potentiallyValidManifests walks dir like upstream's
// getPotentiallyValidManifests / getPotentiallyValidManifestFile.
func potentiallyValidManifests(fsys fs.FS, dir string, recurse bool, include, exclude string) ([]manifestCandidate, error) {
	excludeGlob := compileGlob(exclude)
	includeGlob := compileGlob(include)
	var (
		out   []manifestCandidate
		total int64
	)
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recurse {
				return fs.SkipDir
			}
			return nil
		}
		if !manifestFile.MatchString(d.Name()) {
			return nil
		}
		rel := p
		if dir != "." {
			rel = strings.TrimPrefix(p, dir+"/")
		}
		info, err := fs.Stat(fsys, p) // follows symlinks
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // upstream: dangling symlink, skipped with a warning
			}
			return fmt.Errorf("invalid manifest file %q: %w", p, err)
		}
		if !info.Mode().IsRegular() {
			return nil // upstream: symlink to a non-regular file, skipped
		}
		if exclude != "" && (excludeGlob != nil && excludeGlob.Match(rel)) {
			return nil
		}
		if include != "" && (includeGlob == nil || !includeGlob.Match(rel)) {
			return nil
		}
		raw, err := loader.ReadFileLimit(fsys, p)
		if err != nil {
			return fmt.Errorf("invalid manifest file %q: failed to read %q: %w", p, rel, err)
		}
		data := decodeText(raw)
		if bytes.Contains(data, []byte(skipFileRenderingMarker)) {
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".jsonnet") {
			total += info.Size()
			if MaxCombinedDirectoryManifestsSize != 0 && total > MaxCombinedDirectoryManifestsSize {
				return ErrExceededMaxCombinedManifestFileSize
			}
		}
		out = append(out, manifestCandidate{path: p, name: d.Name(), data: data})
		return nil
	})
	return out, err
}

// compileGlob compiles an include/exclude pattern the way Argo CD's
// util/glob.Match does (gobwas/glob, no separators). Upstream logs a
// compile error and treats the pattern as matching nothing: nil here.
func compileGlob(pattern string) glob.Glob {
	if pattern == "" {
		return nil
	}
	g, err := glob.Compile(pattern)
	if err != nil {
		return nil
	}
	return g
}
