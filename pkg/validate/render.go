package validate

import (
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

// CheckRendered adds the manifest rules for rendered Applications.
func CheckRendered(r *Report, t *Tree, results []render.Result, kubeVersion string) error {
	for _, res := range results {
		as := t.appSetOf(res.App)
		file, line := "", 0
		if as != nil {
			file, line = as.doc.File, as.doc.Line
		}
		if res.Err != nil {
			r.add(RuleRenderFailed, file, line, "Application/"+res.App.Name, "%v", res.Err)
		}
	}
	r.sort()
	return nil
}
