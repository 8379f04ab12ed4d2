package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

// ChartsPull copies every chart the tree's Applications use (repository,
// chart and version, after mirrors; each once) into Dir as a Helm
// repository folder: the packaged charts as their repositories serve them,
// and index.yaml with relative URLs (repo.IndexDirectory), as `helm repo
// index` writes it. It is what an air-gapped machine needs: point
// $HUBCTL_CHARTS_DIR (hubctl up) or --chart-mirror (render, values) at Dir.
//
// It never deletes or overwrites a file it did not write: a package already
// in Dir under the same name must be that chart and version (it is then kept
// and not downloaded again), an existing index.yaml must be a Helm index
// (its other entries are kept). Every file is written to a temporary file in
// Dir and renamed. A second run downloads nothing and rewrites nothing.
type ChartsPull struct {
	// Render gives the inputs: Generate (repository, ApplicationSets,
	// clusters), ChartMirrors, Config and CacheDir. The rest is unused.
	Render
	// Dir is the Helm repository folder (created if missing).
	Dir string
	// Progress receives one line per chart.
	Progress io.Writer
}

// PulledChart is one chart in Dir.
type PulledChart struct {
	// Ref is the chart as the Applications name it (repository after the
	// cluster annotations, before --chart-mirror).
	Ref helm.ChartRef
	// Name and Version of the package (Version resolved from a constraint).
	Name, Version string
	// File is the package's name in Dir.
	File string
	// Downloaded is false when Dir held the package already.
	Downloaded bool
	// Apps are the Applications that use it.
	Apps []string
}

// ChartsPullResult is the outcome of ChartsPull.
type ChartsPullResult struct {
	Charts []PulledChart
	// IndexWritten is false when index.yaml already listed every chart.
	IndexWritten bool
	// Generated is the generate step's result (its Errors are Applications
	// left out, as Argo CD would skip them).
	Generated *GenerateResult
}

// Downloaded counts the charts fetched by this run.
func (r *ChartsPullResult) Downloaded() int {
	n := 0
	for _, c := range r.Charts {
		if c.Downloaded {
			n++
		}
	}
	return n
}

// Run generates the Applications, then copies their charts into Dir.
func (p *ChartsPull) Run(ctx context.Context) (*ChartsPullResult, error) {
	if p.Dir == "" {
		return nil, errors.New("charts pull: no folder given")
	}
	if st, err := os.Stat(p.Dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("charts pull: %s is not a folder", p.Dir)
	}
	gen, opts, err := p.Render.prepare(ctx)
	if err != nil {
		return nil, err
	}
	cache := opts.Charts
	refs := map[helm.ChartRef][]string{}
	for _, a := range gen.Apps {
		for _, s := range a.Sources() {
			ch, _ := s["chart"].(string)
			if ch == "" {
				continue
			}
			u, _ := s["repoURL"].(string)
			v, _ := s["targetRevision"].(string)
			ref := helm.ChartRef{RepoURL: u, Chart: ch, Version: v}
			refs[ref] = append(refs[ref], a.Name)
		}
	}
	keys := make([]helm.ChartRef, 0, len(refs))
	for r := range refs {
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Chart != b.Chart {
			return a.Chart < b.Chart
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.RepoURL < b.RepoURL
	})
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("charts pull: %w", err)
	}
	res := &ChartsPullResult{Generated: gen}
	byFile := map[string]helm.ChartRef{}
	for _, ref := range keys {
		pc, err := p.pullOne(ctx, cache, ref)
		if err != nil {
			return nil, err
		}
		if prev, ok := byFile[pc.File]; ok && prev.RepoURL != ref.RepoURL {
			// One folder is one repository: the same name and version from two
			// repositories must be the same package.
			if err := samePackage(filepath.Join(p.Dir, pc.File), cache, ctx, ref); err != nil {
				return nil, fmt.Errorf("charts pull: %s and %s both give %s: %w", prev, ref, pc.File, err)
			}
		}
		byFile[pc.File] = ref
		pc.Apps = refs[ref]
		res.Charts = append(res.Charts, pc)
		how := "downloaded"
		if !pc.Downloaded {
			how = "already in " + p.Dir
		}
		fmt.Fprintf(orDiscard(p.Progress), "  %s %s (%s): %s\n", pc.Name, pc.Version, ref.RepoURL, how)
	}
	if res.IndexWritten, err = writeIndex(p.Dir, res.Charts); err != nil {
		return nil, err
	}
	return res, nil
}

// pullOne puts the package of ref into Dir unless it is there already.
func (p *ChartsPull) pullOne(ctx context.Context, cache *helm.Cache, ref helm.ChartRef) (PulledChart, error) {
	// An exact version already in Dir is not fetched at all.
	file := ref.Chart + "-" + ref.Version + ".tgz"
	if err := checkFileName(file); err != nil {
		return PulledChart{}, fmt.Errorf("charts pull: %s: %w", ref, err)
	}
	if ok, err := isPackage(filepath.Join(p.Dir, file), ref.Chart, ref.Version); err != nil {
		return PulledChart{}, err
	} else if ok {
		return PulledChart{Ref: ref, Name: ref.Chart, Version: ref.Version, File: file}, nil
	}
	data, md, err := cache.Package(ctx, ref)
	if err != nil {
		return PulledChart{}, err
	}
	file = md.Name + "-" + md.Version + ".tgz"
	if err := checkFileName(file); err != nil {
		return PulledChart{}, fmt.Errorf("charts pull: %s: %w", ref, err)
	}
	pc := PulledChart{Ref: ref, Name: md.Name, Version: md.Version, File: file}
	if ok, err := isPackage(filepath.Join(p.Dir, file), md.Name, md.Version); err != nil {
		return PulledChart{}, err
	} else if ok {
		return pc, nil
	}
	if err := writeFileAtomic(p.Dir, file, data); err != nil {
		return PulledChart{}, fmt.Errorf("charts pull: %w", err)
	}
	pc.Downloaded = true
	return pc, nil
}

// isPackage reports whether path is the package of chart name at version.
// A missing file is false; any other file there is an error: it is not
// ours to overwrite.
func isPackage(path, name, version string) (bool, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, fmt.Errorf("charts pull: %s exists and is not a regular file: refusing to replace it", path)
	}
	ch, err := loader.Load(path)
	if err != nil || ch.Metadata == nil || ch.Metadata.Name != name || ch.Metadata.Version != version {
		return false, fmt.Errorf("charts pull: %s exists and is not chart %s version %s (%v): refusing to replace it", path, name, version, err)
	}
	return true, nil
}

func samePackage(path string, cache *helm.Cache, ctx context.Context, ref helm.ChartRef) error {
	have, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	data, _, err := cache.Package(ctx, ref)
	if err != nil {
		return err
	}
	if !bytes.Equal(have, data) {
		return errors.New("different packages under one name")
	}
	return nil
}

// writeIndex writes Dir/index.yaml for every package in Dir (relative
// URLs), keeping the entries of an existing index.yaml. It writes nothing
// when the existing index lists every pulled chart already.
func writeIndex(dir string, pulled []PulledChart) (bool, error) {
	path := filepath.Join(dir, "index.yaml")
	var old *repo.IndexFile
	if _, err := os.Lstat(path); err == nil {
		if old, err = repo.LoadIndexFile(path); err != nil {
			return false, fmt.Errorf("charts pull: %s exists and is not a Helm repository index: refusing to replace it: %w", path, err)
		}
		complete := true
		for _, c := range pulled {
			if cv, err := old.Get(c.Name, c.Version); err != nil || len(cv.URLs) == 0 || cv.URLs[0] != c.File {
				complete = false
				break
			}
		}
		if complete {
			return false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	idx, err := repo.IndexDirectory(dir, "")
	if err != nil {
		return false, fmt.Errorf("charts pull: indexing %s: %w", dir, err)
	}
	if old != nil {
		idx.Merge(old)
	}
	idx.SortEntries()
	data, err := yaml.Marshal(idx) // as IndexFile.WriteFile, but atomically
	if err != nil {
		return false, err
	}
	if err := fsutil.WriteFileAtomic(path, data, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// checkFileName refuses a package name that is not one plain file name.
func checkFileName(name string) error {
	if strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") || len(name) > 255 {
		return fmt.Errorf("invalid package file name %q", name)
	}
	return nil
}

// writeFileAtomic writes dir/name through a temporary file in dir.
func writeFileAtomic(dir, name string, data []byte) error {
	if err := checkFileName(name); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, name), data, 0o644)
}
