package manifests

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// Source types, as Argo CD names them (ApplicationSourceType).
const (
	SourceTypeHelm      = "Helm"
	SourceTypeKustomize = "Kustomize"
	SourceTypeDirectory = "Directory"
	SourceTypePlugin    = "Plugin"
)

// SourceType tells how Argo CD's repo-server renders a Git source whose
// path is dir (GetAppSourceType in reposerver/repository/repository.go):
// the type set explicitly by the source (its helm, kustomize, directory or
// plugin block; more than one is an error), else the one detected from the
// files of dir (DetectSourceType). Blocks are taken as given: pass a source
// normalized like the Application controller stores it (zero blocks
// dropped), and with any .argocd-source.yaml overrides already merged.
func SourceType(fsys fs.FS, dir string, src *v1alpha1.ApplicationSource) (string, error) {
	var types []string
	if src.Kustomize != nil {
		types = append(types, SourceTypeKustomize)
	}
	if src.Helm != nil {
		types = append(types, SourceTypeHelm)
	}
	if src.Directory != nil {
		types = append(types, SourceTypeDirectory)
	}
	if src.Plugin != nil {
		types = append(types, SourceTypePlugin)
	}
	switch len(types) {
	case 0:
		return DetectSourceType(fsys, dir)
	case 1:
		return types[0], nil
	default:
		return "", fmt.Errorf("multiple application sources defined: %s", strings.Join(types, ","))
	}
}

// DetectSourceType is Argo CD's discovery.AppType without config
// management plugins: the files directly in dir are visited in lexical
// order, a name ending in "Chart.yaml" means Helm, a kustomization file
// name (kustomization.yaml, kustomization.yml, Kustomization) means
// Kustomize, and the last one visited wins (so with both a Chart.yaml and a
// kustomization.yaml, Kustomize). Otherwise it is a plain directory.
func DetectSourceType(fsys fs.FS, dir string) (string, error) {
	dir, err := cleanDir(fsys, dir)
	if err != nil {
		return "", err
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return "", err
	}
	typ := SourceTypeDirectory
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		if strings.HasSuffix(name, "Chart.yaml") {
			typ = SourceTypeHelm
		}
		switch name {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			typ = SourceTypeKustomize
		}
	}
	return typ, nil
}
