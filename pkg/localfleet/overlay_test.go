package localfleet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const testProject = `# a production project
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: obs
  namespace: argocd
spec:
  sourceRepos:
    - https://example.com/charts
  destinations:
    - {name: '*', namespace: obs}
`

// PublishOverlay serves HEAD with the overlay's files laid over the root and
// the fleet's URLs added to every AppProject; HEAD itself is untouched, the
// same HEAD gives the same commit, and the overlay follows new commits.
func TestPublishOverlay(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	ctx := context.Background()
	repo := t.TempDir()
	env := gitEnv(t)
	run(t, repo, env, "git", "init", "-q", "-b", "work")
	for name, content := range map[string]string{
		"bootstrap/projects/obs.yaml":                   testProject,
		"bootstrap/projects/open.yaml":                  strings.Replace(strings.Replace(testProject, "https://example.com/charts", "'*'", 1), "name: obs", "name: open", 1),
		"bootstrap/appset.yaml":                         "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: a}\n",
		"clusters/prod/cluster.yaml":                    "prod\n",
		"overlay/clusters/local-a/cluster.yaml":         "local-a\n",
		"overlay/clusters/local-a/addons/x/values.yaml": "x: 1\n",
		"overlay/clusters/prod/addons/x/values.yaml":    "replaced: true\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, repo, env, "git", "add", "-A")
	run(t, repo, env, "git", "commit", "-q", "-m", "tree")
	head := run(t, repo, env, "git", "rev-parse", "HEAD")

	f := testFleet(t, "hub")
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	ov := &Overlay{Dir: "overlay", SourceRepos: []string{"git://127.0.0.1:1/r.git", "http://127.0.0.1:2"}}
	got, err := f.PublishOverlay(ctx, repo, ov)
	if err != nil {
		t.Fatal(err)
	}
	if got == head {
		t.Fatal("the overlay commit is HEAD")
	}
	bare := f.RepoPath()
	show := func(p string) string { return run(t, bare, env, "git", "show", got+":"+p) }
	if parent := run(t, bare, env, "git", "rev-parse", got+"^"); parent != head {
		t.Errorf("overlay commit's parent %s, want HEAD %s", parent, head)
	}
	if s := show("clusters/local-a/cluster.yaml"); s != "local-a" {
		t.Errorf("clusters/local-a/cluster.yaml = %q", s)
	}
	if s := show("clusters/local-a/addons/x/values.yaml"); s != "x: 1" {
		t.Errorf("clusters/local-a/addons/x/values.yaml = %q", s)
	}
	if s := show("clusters/prod/cluster.yaml"); s != "prod" {
		t.Errorf("HEAD's own file changed: %q", s)
	}
	if s := show("clusters/prod/addons/x/values.yaml"); s != "replaced: true" {
		t.Errorf("overlay file over a production cluster: %q", s)
	}
	var p struct {
		Metadata map[string]any `json:"metadata"`
		Spec     struct {
			SourceRepos  []string `json:"sourceRepos"`
			Destinations []any    `json:"destinations"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(show("bootstrap/projects/obs.yaml")), &p); err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://example.com/charts", "git://127.0.0.1:1/r.git", "http://127.0.0.1:2"}; strings.Join(p.Spec.SourceRepos, " ") != strings.Join(want, " ") || len(p.Spec.Destinations) != 1 || p.Metadata["name"] != "obs" {
		t.Errorf("patched project: %+v", p)
	}
	if s := show("bootstrap/projects/open.yaml"); strings.Contains(s, "127.0.0.1") {
		t.Errorf("a project allowing '*' was patched:\n%s", s)
	}
	if s := show("bootstrap/appset.yaml"); strings.Contains(s, "127.0.0.1") {
		t.Errorf("not a project, patched:\n%s", s)
	}
	// The working tree and HEAD are untouched.
	if b, _ := os.ReadFile(filepath.Join(repo, "bootstrap/projects/obs.yaml")); string(b) != testProject {
		t.Errorf("the repository's project file changed:\n%s", b)
	}
	if h := run(t, repo, env, "git", "rev-parse", "HEAD"); h != head {
		t.Errorf("HEAD moved to %s", h)
	}
	// Deterministic: the same HEAD publishes the same commit.
	if again, err := f.PublishOverlay(ctx, repo, ov); err != nil || again != got {
		t.Errorf("second publish = %s, %v; want %s", again, err, got)
	}
	// A new commit to the overlay is served.
	run(t, bare, env, "git", "config", "core.logAllRefUpdates", "always")
	next := commitFile(t, repo, "overlay/clusters/local-a/cluster.yaml", "local-a v2\n")
	got2, err := f.PublishOverlay(ctx, repo, ov)
	if err != nil {
		t.Fatal(err)
	}
	// The branch moved straight to the overlay commit: it never pointed at
	// HEAD without the overlay, whose projects refuse the fleet's URLs (an
	// Argo CD refresh then would sync those projects).
	if moves := strings.Fields(run(t, bare, env, "git", "reflog", "show", "--format=%H", "refs/heads/"+Branch)); len(moves) != 1 || moves[0] != got2 {
		t.Errorf("branch %s moved through %v; want only the overlay commit %s (HEAD without the overlay is %s)", Branch, moves, got2, next)
	}
	if s := run(t, bare, env, "git", "show", got2+":clusters/local-a/cluster.yaml"); s != "local-a v2" {
		t.Errorf("after a commit: %q", s)
	}
	if parent := run(t, bare, env, "git", "rev-parse", got2+"^"); parent != next {
		t.Errorf("parent %s, want %s", parent, next)
	}
	// An overlay directory missing at HEAD is an error that names it.
	if _, err := f.PublishOverlay(ctx, repo, &Overlay{Dir: "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing overlay dir: %v", err)
	}
}

func TestAddSourceReposMultiDocument(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + testProject
	out, changed, err := addSourceRepos([]byte(in), []string{"http://127.0.0.1:2"})
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	docs := strings.Split(string(out), "---\n")
	if len(docs) != 2 || !strings.Contains(docs[0], "kind: ConfigMap") || !strings.Contains(docs[1], "- http://127.0.0.1:2") {
		t.Fatalf("output:\n%s", out)
	}
	if _, _, err := addSourceRepos([]byte("kind: [\n"), []string{"x"}); err == nil {
		t.Error("malformed YAML: no error")
	}
	same, changed, err := addSourceRepos([]byte(testProject), []string{"https://example.com/charts"})
	if err != nil || changed || string(same) != testProject {
		t.Errorf("already allowed: changed %v, %v", changed, err)
	}
}
