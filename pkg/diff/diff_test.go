package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func application(t *testing.T, name, extra string) map[string]any {
	return obj(t, "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: "+name+"\n"+extra+
		"spec:\n  destination: {name: c1, namespace: ns}\n  source: {repoURL: https://charts.example.test, chart: web, targetRevision: 1.0.0}\n")
}

func cm(t *testing.T, name, extra string) map[string]any {
	return obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+name+"\n  namespace: ns\n"+extra)
}

func rendered(name string, object map[string]any, objs ...map[string]any) *App {
	return &App{Name: name, AppSet: "addons-web", Cluster: "c1", Server: "https://c1", Object: object, Objects: objs, Rendered: true}
}

// TestAutomatedPrune follows argo-cd's SyncPolicy: automated sync prunes
// only with prune: true, and automated.enabled: false (Argo CD 3.1) turns
// automated sync off.
func TestAutomatedPrune(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   bool
	}{
		{"", false},
		{"  syncPolicy: {automated: {}}\n", false},
		{"  syncPolicy: {automated: {prune: false}}\n", false},
		{"  syncPolicy: {automated: {prune: true}}\n", true},
		{"  syncPolicy: {automated: {prune: true, enabled: true}}\n", true},
		{"  syncPolicy: {automated: {prune: true, enabled: false}}\n", false},
	} {
		app := obj(t, "metadata: {name: a}\nspec:\n"+tc.policy)
		if got := autoPrune(app); got != tc.want {
			t.Errorf("%q: autoPrune = %v, want %v", tc.policy, got, tc.want)
		}
		b := rendered("a", app, cm(t, "keep", ""), cm(t, "gone", ""))
		h := rendered("a", app, cm(t, "keep", ""))
		rep := Compare([]*App{b}, []*App{h})
		if len(rep.Apps) != 1 || len(rep.Apps[0].Objects) != 1 || rep.Apps[0].Objects[0].Pruned != tc.want {
			t.Errorf("%q: report %+v", tc.policy, rep.Apps)
		}
	}
}

// TestDeleteFalse: on a removed Application with the resources finalizer,
// an object with the sync option Delete=false stays
// (argo-cd docs/user-guide/sync-options.md).
func TestDeleteFalse(t *testing.T) {
	app := application(t, "a", "  finalizers: [resources-finalizer.argocd.argoproj.io]\n")
	b := rendered("a", app, cm(t, "kept", "  annotations: {argocd.argoproj.io/sync-options: \"Delete=false\"}\n"), cm(t, "deleted", ""))
	rep := Compare([]*App{b}, nil)
	if len(rep.Apps) != 1 || !rep.Apps[0].DeletesResources {
		t.Fatalf("report %+v", rep.Apps)
	}
	for _, o := range rep.Apps[0].Objects {
		if o.Pruned != (o.Name == "deleted") {
			t.Errorf("%s: pruned %v", o.Name, o.Pruned)
		}
	}
	if !rep.HasRemovals() || !rep.HasChanges() {
		t.Error("removal not reported")
	}
}

// TestTrackingIgnored: Argo CD's tracking annotation and an instance label
// holding the Application's name are not changes; a chart label is.
func TestTrackingIgnored(t *testing.T) {
	app := application(t, "a", "")
	b := rendered("a", app, cm(t, "x", "  annotations: {argocd.argoproj.io/tracking-id: \"a:/ConfigMap:ns/x\"}\n  labels: {app.kubernetes.io/instance: a}\n"))
	h := rendered("a", app, cm(t, "x", ""))
	if rep := Compare([]*App{b}, []*App{h}); len(rep.Apps) != 0 {
		t.Errorf("tracking metadata reported as a change: %+v", rep.Apps[0].Objects[0].Diff)
	}
	h2 := rendered("a", app, cm(t, "x", "  labels: {helm.sh/chart: web-1.0.1}\n"))
	b2 := rendered("a", app, cm(t, "x", "  labels: {helm.sh/chart: web-1.0.0}\n"))
	if rep := Compare([]*App{b2}, []*App{h2}); len(rep.Apps) != 1 {
		t.Error("a chart version bump is a real change")
	}
}

// TestAmbiguousRenameNotPaired: two removed and two added Applications
// with the same destination and source are not guessed into pairs.
func TestAmbiguousRenameNotPaired(t *testing.T) {
	mk := func(n string) *App { return rendered(n, application(t, n, "")) }
	rep := Compare([]*App{mk("old1"), mk("old2")}, []*App{mk("new1"), mk("new2")})
	for _, a := range rep.Apps {
		if a.RenamedFrom != "" || a.RenamedTo != "" {
			t.Errorf("%s paired", a.Name)
		}
	}
	rep = Compare([]*App{mk("old1")}, []*App{mk("new1")})
	if rep.Summary().Renames != 1 {
		t.Errorf("one-to-one rename not paired: %+v", rep.Summary())
	}
}

func TestMaskSecret(t *testing.T) {
	s := obj(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"c2VjcmV0\"}}'}\ndata: {k: c2VjcmV0}\nstringData: {p: secret}\n")
	MaskSecret(s)
	b, _ := json.Marshal(s)
	if bytes.Contains(b, []byte("c2VjcmV0")) || bytes.Contains(b, []byte("secret")) {
		t.Errorf("value left: %s", b)
	}
	// data is hashed decoded: the same value in data and stringData has
	// the same hash.
	if s["data"].(map[string]any)["k"] != s["stringData"].(map[string]any)["p"] || !strings.HasPrefix(s["data"].(map[string]any)["k"].(string), "<sha256:") {
		t.Errorf("hashes differ: %v %v", s["data"], s["stringData"])
	}
}

// TestMarkdownLimit: whatever the size, the comment stays under the limit
// and the closing line counts what was left out; escaping keeps names from
// breaking the table or injecting HTML.
func TestMarkdownLimit(t *testing.T) {
	var base, head []*App
	for i := range 50 {
		n := "app-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		app := application(t, n, "")
		data := func(side string) string {
			var b strings.Builder
			b.WriteString("data:\n")
			for k := range 100 {
				fmt.Fprintf(&b, "  k%03d: value-%03d-%s\n", k, k, side)
			}
			return b.String()
		}
		base = append(base, rendered(n, app, cm(t, "x", data("base"))))
		h := rendered(n, app, cm(t, "x", data("head")))
		h.Cluster = "c|<b>" + n
		head = append(head, h)
	}
	rep := Compare(base, head)
	for _, limit := range []int{4096, 20000, MarkdownLimit} {
		var buf bytes.Buffer
		if err := rep.WriteMarkdown(&buf, limit); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if len(out) > limit || !utf8.ValidString(out) {
			t.Errorf("limit %d: %d bytes", limit, len(out))
		}
		if !strings.Contains(out, "_Left out to fit one comment:") {
			t.Errorf("limit %d: no count of what was left out", limit)
		}
		if strings.Contains(out, "<b>app") || strings.Contains(out, "| c|") {
			t.Errorf("limit %d: cluster name not escaped", limit)
		}
	}
}

func TestFence(t *testing.T) {
	got := fence("a ``` b\n")
	if !strings.HasPrefix(got, "````diff\n") || !strings.HasSuffix(got, "\n````\n") {
		t.Errorf("fence = %q", got)
	}
}
