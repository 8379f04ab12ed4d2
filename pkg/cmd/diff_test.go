package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	chartloader "helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// diffRepo is a temporary Git repository holding testdata/diff/repo,
// committed as the base; tests then edit it the way a user would.
type diffRepo struct {
	t      *testing.T
	dir    string
	charts string
	base   string
}

func newDiffRepo(t *testing.T) *diffRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &diffRepo{t: t, dir: t.TempDir(), charts: packageCharts(t)}
	src := filepath.Join("testdata", "diff", "repo")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.write(filepath.ToSlash(rel), string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	r.base = r.commit("base")
	return r
}

// packageCharts packages testdata/diff/charts/* into a folder of .tgz, the
// mirror of https://charts.example.test.
func packageCharts(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	dirs, err := filepath.Glob(filepath.Join("testdata", "diff", "charts", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no test charts: %v", err)
	}
	for _, d := range dirs {
		ch, err := chartloader.LoadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chartutil.Save(ch, out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *diffRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.dir, "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *diffRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func (r *diffRepo) path(name string) string { return filepath.Join(r.dir, filepath.FromSlash(name)) }

func (r *diffRepo) write(name, content string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.path(name)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.path(name), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *diffRepo) read(name string) string {
	r.t.Helper()
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// edit replaces old with new in a file; old must be there.
func (r *diffRepo) edit(name, old, new string) {
	r.t.Helper()
	s := r.read(name)
	if !strings.Contains(s, old) {
		r.t.Fatalf("%s does not contain %q", name, old)
	}
	r.write(name, strings.Replace(s, old, new, 1))
}

// diff runs hubctl diff on the repository.
func (r *diffRepo) diff(args ...string) (string, string, int) {
	r.t.Helper()
	all := append([]string{"diff", "--repo", r.dir, "--chart-mirror", "https://charts.example.test=" + r.charts, "--cache-dir", r.t.TempDir()}, args...)
	return run(r.t, all...)
}

type diffJSON struct {
	Base, Head   string
	Applications []struct {
		Name, Cluster, ApplicationSet, Change string
		DeletesResources                      bool
		RenamedFrom, RenamedTo                string
		Objects                               []struct {
			APIVersion, Kind, Namespace, Name, Change string
			Pruned                                    bool
		}
	}
}

func (r *diffRepo) diffJSON(args ...string) diffJSON {
	r.t.Helper()
	out, errOut, code := r.diff(append(args, "-o", "json")...)
	if code != ExitOK {
		r.t.Fatalf("exit %d: %s", code, errOut)
	}
	var d diffJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		r.t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	return d
}

// app returns the entry of an Application with a change, or fails.
func (d diffJSON) app(t *testing.T, name, change string) int {
	t.Helper()
	for i, a := range d.Applications {
		if a.Name == name && a.Change == change {
			return i
		}
	}
	t.Fatalf("no Application %s %s in %+v", name, change, d.Applications)
	return -1
}

func TestDiffNoChange(t *testing.T) {
	r := newDiffRepo(t)
	out, errOut, code := r.diff("--exit-code", "--fail-on-delete")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 without changes: %s", code, errOut)
	}
	if !strings.Contains(out, "0 Application(s) changed, 0 added, 0 removed, 4 unchanged") {
		t.Errorf("summary:\n%s", out)
	}
	if !strings.Contains(errOut, "rendered 0 Application(s) of the base and 0 of the head") {
		t.Errorf("unchanged Applications were rendered: %s", errOut)
	}
	d := r.diffJSON()
	if len(d.Applications) != 0 || d.Base != r.base || d.Head != "worktree" {
		t.Errorf("JSON = %+v, want no Applications, base %s, head worktree", d, r.base)
	}
}

// TestDiffValuesChange: a value in environments/default reaches both
// clusters' web Application; only those are rendered; the diff shows the
// field, and the impact matrix names the cells.
func TestDiffValuesChange(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("environments/default/addons/web/values.yaml", "replicas: 2", "replicas: 3")
	out, errOut, code := r.diff()
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mustContain(t, out, "2 Application(s) changed, 0 added, 0 removed, 2 unchanged",
		"CLUSTER  db  web", "alpha    =1  ~1", "beta     =1  ~1",
		"=== Application web-alpha (cluster alpha, ApplicationSet addons-web): changed",
		"--- Deployment.apps web/web: changed",
		"-  replicas: 2\n+  replicas: 3\n")
	// checksum/values changes with every values change, while no
	// ConfigMap or Secret changed: left out.
	if strings.Contains(out, "checksum/") {
		t.Errorf("checksum annotation of unchanged inputs shown:\n%s", out)
	}
	if !strings.Contains(errOut, "rendered 2 Application(s) of the base and 2 of the head") {
		t.Errorf("render count: %s", errOut)
	}
	// With --exit-code, a change is exit 1; --fail-on-delete alone is 0.
	if _, _, code := r.diff("--exit-code"); code != ExitFindings {
		t.Errorf("--exit-code with changes: exit %d, want 1", code)
	}
	if _, _, code := r.diff("--fail-on-delete"); code != ExitOK {
		t.Errorf("--fail-on-delete without removals: exit %d, want 0", code)
	}
	// The committed change against its parent: same report, head a SHA.
	head := r.commit("three replicas")
	d := r.diffJSON("--base", "HEAD~1", "--head", "HEAD")
	if d.Base != r.base || d.Head != head || len(d.Applications) != 2 {
		t.Errorf("committed: %+v", d)
	}
}

// TestDiffConfigChangeShowsChecksum: when a ConfigMap changes, the
// checksum annotation that rolls the Pods is a real change and is shown.
func TestDiffConfigChangeShowsChecksum(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("environments/default/addons/web/values.yaml", "greeting: hello", "greeting: bonjour")
	out, _, _ := r.diff("--cluster", "alpha")
	mustContain(t, out, "--- ConfigMap web/web-config: changed", "-  greeting: hello\n+  greeting: bonjour", "checksum/config")
	if strings.Contains(out, "cluster beta") {
		t.Errorf("--cluster alpha shows beta:\n%s", out)
	}
}

// TestDiffRandomValues: a chart that generates a token on every render
// changes its Secret and the checksum over it with no input change; hubctl
// renders the head again, and what differs between the two renders is not
// a change. The real change (replicas) stays.
func TestDiffRandomValues(t *testing.T) {
	r := newDiffRepo(t)
	r.write("clusters/alpha/addons/web/values.yaml", r.read("clusters/alpha/addons/web/values.yaml")+"randomToken: true\n")
	r.commit("random token on alpha")
	r.edit("environments/default/addons/web/values.yaml", "replicas: 2", "replicas: 3")
	out, errOut, code := r.diff("--cluster", "alpha")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mustContain(t, out, "--- Deployment.apps web/web: changed", "+  replicas: 3")
	for _, noise := range []string{"Secret web/web-credentials", "checksum/secret", "token:"} {
		if strings.Contains(out, noise) {
			t.Errorf("random value shown as a change (%s):\n%s", noise, out)
		}
	}
	// A real change of the same Secret is still shown.
	r.edit("clusters/alpha/addons/web/values.yaml", "alpha-s3cret-value", "alpha-other")
	out, _, _ = r.diff("--cluster", "alpha")
	mustContain(t, out, "--- Secret web/web-credentials: changed", "-  password: <sha256:", "checksum/secret")
}

// TestDiffRemovedApplicationFinalizer: removing a cluster's enable_ label
// removes its Applications. addons-web's Applications carry the resources
// finalizer (no preserveResourcesOnDeletion): they delete their resources;
// addons-db preserves them.
func TestDiffRemovedApplicationFinalizer(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("clusters/beta/cluster.yaml", "    enable_web: \"true\"\n    enable_db: \"true\"\n", "")
	d := r.diffJSON()
	web := d.Applications[d.app(t, "web-beta", "removed")]
	if !web.DeletesResources {
		t.Error("web-beta: deletesResources = false, want true (resources finalizer)")
	}
	for _, o := range web.Objects {
		if o.Change != "removed" || !o.Pruned {
			t.Errorf("web-beta object %+v: want removed and pruned", o)
		}
	}
	if len(web.Objects) != 4 {
		t.Errorf("web-beta: %d objects, want 4", len(web.Objects))
	}
	db := d.Applications[d.app(t, "db-beta", "removed")]
	if db.DeletesResources {
		t.Error("db-beta: deletesResources = true, want false (preserveResourcesOnDeletion)")
	}
	for _, o := range db.Objects {
		if o.Pruned {
			t.Errorf("db-beta object %+v is pruned; its resources stay", o)
		}
	}
	out, _, code := r.diff("--fail-on-delete")
	if code != ExitFindings {
		t.Errorf("--fail-on-delete with removed Applications: exit %d, want 1", code)
	}
	if !strings.Contains(out, "WARNING: Application web-beta (cluster beta) is removed and its resources finalizer deletes 4 object(s)") {
		t.Errorf("no deletion warning:\n%s", out)
	}
	if !strings.Contains(out, "=== Application db-beta (cluster beta, ApplicationSet addons-db): removed (resources kept: no resources finalizer)") {
		t.Errorf("db-beta label:\n%s", out)
	}
}

// TestDiffFinalizerVariants: the /foreground and /background finalizers of
// Argo CD delete resources too (argo-cd pkg/apis/application/v1alpha1
// ForegroundPropagationPolicyFinalizer, BackgroundPropagationPolicyFinalizer).
func TestDiffFinalizerVariants(t *testing.T) {
	for _, fin := range []string{"resources-finalizer.argocd.argoproj.io/foreground", "resources-finalizer.argocd.argoproj.io/background", "example.com/other"} {
		t.Run(fin, func(t *testing.T) {
			r := newDiffRepo(t)
			r.edit("bootstrap/appset-db.yaml", "      name: 'db-{{ .name }}'\n", "      name: 'db-{{ .name }}'\n      finalizers: ["+fin+"]\n")
			r.commit("finalizer")
			r.edit("clusters/beta/cluster.yaml", "    enable_db: \"true\"\n", "")
			d := r.diffJSON()
			got := d.Applications[d.app(t, "db-beta", "removed")].DeletesResources
			if want := fin != "example.com/other"; got != want {
				t.Errorf("deletesResources = %v, want %v", got, want)
			}
		})
	}
}

// TestDiffPrune: a value that drops an object. addons-web syncs with
// prune: true, so the object is deleted; addons-db has prune: false, so it
// stays, OutOfSync.
func TestDiffPrune(t *testing.T) {
	r := newDiffRepo(t)
	r.write("environments/default/addons/web/values.yaml", r.read("environments/default/addons/web/values.yaml")+"extra:\n  enabled: false\n")
	r.write("environments/default/addons/db/values.yaml", r.read("environments/default/addons/db/values.yaml")+"extra:\n  enabled: false\n")
	d := r.diffJSON("--cluster", "alpha")
	check := func(app, obj string, pruned bool) {
		a := d.Applications[d.app(t, app, "changed")]
		for _, o := range a.Objects {
			if o.Name == obj {
				if o.Change != "removed" || o.Pruned != pruned {
					t.Errorf("%s %s: %+v, want removed, pruned %v", app, obj, o, pruned)
				}
				return
			}
		}
		t.Errorf("%s: no object %s in %+v", app, obj, a.Objects)
	}
	check("web-alpha", "web-extra", true)
	check("db-alpha", "db-extra", false)
	if _, _, code := r.diff("--fail-on-delete"); code != ExitFindings {
		t.Errorf("--fail-on-delete with a removed object: exit %d, want 1", code)
	}
}

// TestDiffPruneFalseOption: an object annotated with Argo CD's sync option
// Prune=false is not pruned even by an Application with prune: true
// (argo-cd docs/user-guide/sync-options.md).
func TestDiffPruneFalseOption(t *testing.T) {
	r := newDiffRepo(t)
	r.write("clusters/alpha/addons/web/values.yaml", r.read("clusters/alpha/addons/web/values.yaml")+"extra:\n  enabled: true\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false\n")
	r.commit("keep web-extra on alpha")
	r.edit("clusters/alpha/addons/web/values.yaml", "enabled: true", "enabled: false")
	d := r.diffJSON()
	a := d.Applications[d.app(t, "web-alpha", "changed")]
	found := false
	for _, o := range a.Objects {
		if o.Name == "web-extra" {
			found = true
			if o.Change != "removed" || o.Pruned {
				t.Errorf("web-extra = %+v, want removed and not pruned", o)
			}
		}
	}
	if !found {
		t.Errorf("objects = %+v, want web-extra removed", a.Objects)
	}
}

// TestDiffClusterRename: renaming a cluster in the registry (same server,
// new name) removes its Applications and adds new ones; each pair shows as
// one rename (argo-cd#12958: the old Applications' finalizer deletes
// everything).
func TestDiffClusterRename(t *testing.T) {
	r := newDiffRepo(t)
	r.git("mv", "clusters/alpha", "clusters/gamma")
	r.edit("clusters/gamma/cluster.yaml", "name: alpha", "name: gamma")
	d := r.diffJSON()
	old := d.Applications[d.app(t, "web-alpha", "removed")]
	nw := d.Applications[d.app(t, "web-gamma", "added")]
	if old.RenamedTo != "web-gamma" || nw.RenamedFrom != "web-alpha" {
		t.Errorf("rename not paired: removed %+v added %+v", old.RenamedTo, nw.RenamedFrom)
	}
	if !old.DeletesResources || old.Cluster != "alpha" || nw.Cluster != "gamma" {
		t.Errorf("removed half %+v", old)
	}
	if d.Applications[d.app(t, "db-alpha", "removed")].RenamedTo != "db-gamma" {
		t.Error("db-alpha -> db-gamma not paired")
	}
	out, _, _ := r.diff()
	mustContain(t, out, "2 rename(s)", "web-alpha (cluster alpha) is removed and its resources finalizer deletes 4 object(s) from the cluster; web-gamma re-creates them after the rename",
		"=== Application web-gamma (cluster gamma, ApplicationSet addons-web): added, renamed from web-alpha",
		"(objects compared with those of web-alpha: no difference)")
	// The cluster values moved with the directory: the objects are equal
	// (the instance label, Argo CD's tracking label, holds the release
	// name here, which is the Application name: ignored).
	if strings.Contains(out, "--- Deployment.apps web/web: changed") {
		t.Errorf("rename shows object changes:\n%s", out)
	}
}

// TestDiffApplicationRename: a new name template moves every Application
// of the ApplicationSet to another name: renames, not unrelated removals.
func TestDiffApplicationRename(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("bootstrap/appset-db.yaml", "name: 'db-{{ .name }}'", "name: 'database-{{ .name }}'")
	d := r.diffJSON()
	for _, c := range []string{"alpha", "beta"} {
		a := d.Applications[d.app(t, "database-"+c, "added")]
		if a.RenamedFrom != "db-"+c {
			t.Errorf("database-%s: renamedFrom %q", c, a.RenamedFrom)
		}
		if d.Applications[d.app(t, "db-"+c, "removed")].DeletesResources {
			t.Errorf("db-%s deletes resources, but addons-db preserves them", c)
		}
	}
	// A different server is not a rename.
	r2 := newDiffRepo(t)
	r2.git("mv", "clusters/alpha", "clusters/gamma")
	r2.edit("clusters/gamma/cluster.yaml", "name: alpha", "name: gamma")
	r2.edit("clusters/gamma/cluster.yaml", "https://alpha.example.test:6443", "https://gamma.example.test:6443")
	d2 := r2.diffJSON()
	if got := d2.Applications[d2.app(t, "web-gamma", "added")].RenamedFrom; got != "" {
		t.Errorf("new server paired as rename from %s", got)
	}
}

// TestDiffSecretMasked: a Secret's changed key is shown with a short hash;
// no value of the Secret appears in any output format.
func TestDiffSecretMasked(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("clusters/alpha/addons/web/values.yaml", "alpha-s3cret-value", "alpha-n3w-s3cret")
	// A removed Application's Secret is listed too: still masked.
	r.edit("clusters/beta/cluster.yaml", "    enable_web: \"true\"\n", "")
	secrets := []string{"alpha-s3cret-value", "alpha-n3w-s3cret", "default-s3cret-value"}
	for _, s := range []string{"alpha-s3cret-value", "alpha-n3w-s3cret", "default-s3cret-value", "admin"} {
		secrets = append(secrets, base64Std(s))
	}
	for _, format := range []string{"text", "markdown", "json", "html"} {
		out, errOut, code := r.diff("-o", format)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) || strings.Contains(errOut, s) {
				t.Errorf("-o %s shows the secret value %q", format, s)
			}
		}
		if format == "json" {
			continue
		}
		if !strings.Contains(out, "Secret web/web-credentials") {
			t.Errorf("-o %s does not name the changed Secret:\n%s", format, out)
		}
	}
	out, _, _ := r.diff()
	if !strings.Contains(out, "-  password: <sha256:") || !strings.Contains(out, "+  password: <sha256:") {
		t.Errorf("changed key not shown with its hash:\n%s", out)
	}
	alpha, _, _ := strings.Cut(out, "=== Application web-beta")
	if strings.Contains(alpha, "-  user:") {
		t.Errorf("unchanged key shown as changed:\n%s", out)
	}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestDiffMarkdownTruncated: a change too large for one comment is cut at
// 65,536 characters, summary first, with counts of what was left out.
func TestDiffMarkdownTruncated(t *testing.T) {
	r := newDiffRepo(t)
	var b strings.Builder
	b.WriteString("replicas: 2\nconfig:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  key%04d: value-%04d-with-some-length\n", i, i)
	}
	r.write("environments/default/addons/web/values.yaml", b.String())
	out, errOut, code := r.diff("-o", "markdown")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(out) > 65536 || utf8.RuneCountInString(out) > 65536 {
		t.Fatalf("markdown is %d bytes, over 65,536", len(out))
	}
	if !strings.HasPrefix(out, "### hubctl diff") || !strings.Contains(out, "| cluster | db | web |") {
		t.Errorf("summary not first:\n%.500s", out)
	}
	if !strings.Contains(out, "_Left out to fit one comment:") {
		t.Errorf("no count of what was left out:\n...%s", out[max(0, len(out)-600):])
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
		t.Error("unbalanced <details> sections")
	}
	// The same change in text is complete (and much larger).
	text, _, _ := r.diff()
	if len(text) <= 65536 {
		t.Errorf("text output is only %d bytes: the test does not exercise truncation", len(text))
	}
}

func TestDiffMarkdownSections(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("environments/default/addons/web/values.yaml", "replicas: 2", "replicas: 3")
	out, _, _ := r.diff("-o", "markdown")
	mustContain(t, out, "<details><summary><b>alpha</b>: 1 changed</summary>", "<details><summary><b>beta</b>: 1 changed</summary>", "```diff\n", "| alpha | =1 | ~1 |")
	if strings.Contains(out, "_Left out") {
		t.Errorf("small diff truncated:\n%s", out)
	}
}

// TestDiffHTML: one self-contained page, every value escaped.
func TestDiffHTML(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("environments/default/addons/web/values.yaml", "greeting: hello", "greeting: <script>alert(1)</script>")
	out, _, code := r.diff("-o", "html")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "</html>") {
		t.Errorf("not one HTML page")
	}
	if strings.Contains(out, "<script>") {
		t.Error("unescaped value in the page")
	}
	for _, external := range []string{"src=", "href=", "@import", "url("} {
		if strings.Contains(out, external) {
			t.Errorf("page refers to an external asset (%s)", external)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;") {
		t.Error("escaped value missing")
	}
}

// TestDiffJSONGolden pins the JSON shape of issue 10 on a change with an
// added, a removed and a changed Application.
func TestDiffJSONGolden(t *testing.T) {
	r := newDiffRepo(t)
	r.edit("environments/default/addons/web/values.yaml", "replicas: 2", "replicas: 3")
	r.edit("clusters/beta/cluster.yaml", "    enable_db: \"true\"\n", "")
	r.write("clusters/delta/cluster.yaml", strings.ReplaceAll(r.read("clusters/beta/cluster.yaml"), "beta", "delta"))
	out, errOut, code := r.diff("-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "diff-shape.json", strings.Replace(out, r.base, "BASE_SHA", 1))
	// The mandated keys, and only them plus renamedFrom/renamedTo.
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(raw); got != "applications,base,head" {
		t.Errorf("top-level keys %s", got)
	}
	for _, a := range raw["applications"].([]any) {
		if got := keysOf(a.(map[string]any)); got != "applicationSet,change,cluster,deletesResources,name,objects" {
			t.Errorf("application keys %s", got)
		}
		for _, o := range a.(map[string]any)["objects"].([]any) {
			if got := keysOf(o.(map[string]any)); got != "apiVersion,change,kind,name,namespace,pruned" {
				t.Errorf("object keys %s", got)
			}
		}
	}
}

func keysOf(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestDiffErrors: a bad revision or a broken tree is exit 2 with a message
// naming it; nothing on stdout.
func TestDiffErrors(t *testing.T) {
	r := newDiffRepo(t)
	out, errOut, code := r.diff("--base", "no-such-branch")
	if code != ExitError || !strings.Contains(errOut, `"no-such-branch"`) || out != "" {
		t.Errorf("bad --base: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	_, errOut, code = r.diff("--head", "v9")
	if code != ExitError || !strings.Contains(errOut, `"v9"`) {
		t.Errorf("bad --head: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = r.diff("-o", "yaml")
	if code != ExitError || !strings.Contains(errOut, "yaml") {
		t.Errorf("bad -o: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = r.diff("--cluster", "nope")
	if code != ExitError || !strings.Contains(errOut, "nope") {
		t.Errorf("unknown cluster: exit %d, stderr %q", code, errOut)
	}
	r.write("environments/default/addons/web/values.yaml", "replicas: [unclosed\n")
	out, errOut, code = r.diff()
	if code != ExitError || !strings.Contains(errOut, "environments/default/addons/web/values.yaml") {
		t.Errorf("malformed values: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "Left out") {
		t.Error("unexpected")
	}
	r.write("bootstrap/appset-web.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: [\n")
	_, errOut, code = r.diff()
	if code != ExitError || !strings.Contains(errOut, "bootstrap/appset-web.yaml") || !strings.Contains(errOut, "head") {
		t.Errorf("malformed ApplicationSet: exit %d, stderr %q", code, errOut)
	}
}

// mustContain fails for every string out lacks.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
