package bootstrap

import (
	"os"
	"path/filepath"
)

// ArgoCDVersion is the Argo CD version hack/tools/build.sh pins (ARGOCD_VERSION there; a test
// keeps the two equal). Its CRDs are the ones Hub applies by default.
const ArgoCDVersion = "v3.6.1"

// DefaultCRDDir is where hack/tools/build.sh puts Argo CD's CRDs, what
// `hack/tools/build.sh --print-crds-dir` prints:
// ${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}/argocd-<ArgoCDVersion>/crds.
// The folder may not exist (build.sh argocd not run yet); Hub then fails in its CRD step.
func DefaultCRDDir() string {
	cache := os.Getenv("GITOPS_HUB_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				home = "."
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "gitops-hub")
	}
	return filepath.Join(cache, "argocd-"+ArgoCDVersion, "crds")
}
