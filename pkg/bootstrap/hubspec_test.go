package bootstrap

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadHubSpecOfTheTree(t *testing.T) {
	spec, values, err := LoadHubSpec(os.DirFS("../.."))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Chart != "argo-cd" || spec.Version == "" || spec.RepoURL == "" || spec.Namespace != "argocd" || spec.ReleaseName != "argocd" {
		t.Errorf("spec %+v", spec)
	}
	if values == nil {
		t.Error("nil values")
	}
}

func TestLoadHubSpecErrors(t *testing.T) {
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"missing":       {nil, "the hub's chart pin: open bootstrap/hub/argo-cd.yaml"},
		"unknown field": {map[string]string{"bootstrap/hub/argo-cd.yaml": "repoURL: r\nchart: c\nversion: 1\nvesion: 2\n"}, `bootstrap/hub/argo-cd.yaml: error unmarshaling JSON: while decoding JSON: json: unknown field "vesion"`},
		"no version":    {map[string]string{"bootstrap/hub/argo-cd.yaml": "repoURL: r\nchart: c\n"}, "bootstrap/hub/argo-cd.yaml: version is required"},
		"bad values":    {map[string]string{"bootstrap/hub/argo-cd.yaml": "repoURL: r\nchart: c\nversion: '1'\n", "bootstrap/hub/values.yaml": "a: [\n"}, "bootstrap/hub/values.yaml: error converting YAML to JSON: yaml: line 1"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, d := range c.files {
				fsys[p] = &fstest.MapFile{Data: []byte(d)}
			}
			_, _, err := LoadHubSpec(fsys)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
