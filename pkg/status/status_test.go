package status

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func TestReadyAndSynced(t *testing.T) {
	for _, tc := range []struct {
		app           App
		synced, ready bool
	}{
		{App{Sync: "Synced", Health: "Healthy", Operation: "Succeeded"}, true, true},
		{App{Sync: "Synced", Health: "Healthy"}, true, true},
		// apiserver-only clusters: nothing runs the Pods.
		{App{Sync: "Synced", Health: "Progressing", Operation: "Succeeded"}, true, false},
		{App{Sync: "Synced", Health: "Healthy", Operation: "Running"}, false, false},
		{App{Sync: "OutOfSync", Health: "Healthy", Operation: "Succeeded"}, false, false},
		{App{Sync: "Unknown", Health: "Healthy", Operation: "Failed"}, false, false},
	} {
		if got := tc.app.Synced(); got != tc.synced {
			t.Errorf("%+v: Synced() = %v, want %v", tc.app, got, tc.synced)
		}
		if got := tc.app.Ready(); got != tc.ready {
			t.Errorf("%+v: Ready() = %v, want %v", tc.app, got, tc.ready)
		}
	}
}

// Fixture reads testdata/fleet.yaml.
func fixture(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return objectsOf(t, "fleet.yaml")
}

// objectsOf reads the objects of testdata/name.
func objectsOf(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func fakeHub(t *testing.T, objs []*unstructured.Unstructured) *dynamicfake.FakeDynamicClient {
	t.Helper()
	var rt []runtime.Object
	for _, o := range objs {
		rt = append(rt, o.DeepCopy())
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		ApplicationsGVR: "ApplicationList",
		SecretsGVR:      "SecretList",
	}, rt...)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/status -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/status -update rewrites it):\n--- got\n%s", path, got)
	}
}

func readFixture(t *testing.T) *Fleet {
	t.Helper()
	f, err := Read(context.Background(), fakeHub(t, fixture(t)), "argocd")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGolden(t *testing.T) {
	f := readFixture(t)
	f.Hub = "hub-context"
	goldenFormats(t, "fleet", f)
}

// goldenFormats writes f as table, wide, json and html and compares each with
// testdata/golden/<prefix>.<format>.
func goldenFormats(t *testing.T, prefix string, f *Fleet) {
	t.Helper()
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{prefix + ".table", func(b *bytes.Buffer) error { return Write(b, f, OutputTable) }},
		{prefix + ".wide", func(b *bytes.Buffer) error { return Write(b, f, OutputWide) }},
		{prefix + ".json", func(b *bytes.Buffer) error { return Write(b, f, OutputJSON) }},
		{prefix + ".html", func(b *bytes.Buffer) error { return WriteHTML(b, f) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			// Credentials of the cluster Secrets never reach the output.
			if strings.Contains(b.String(), "secret-token") || strings.Contains(b.String(), "bearerToken") {
				t.Errorf("%s shows a cluster Secret's credentials", tc.name)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestMatrix(t *testing.T) {
	f := readFixture(t)
	if got, want := strings.Join(f.Addons, ","), "argo-cd,crossplane,legacy-monitoring"; got != want {
		t.Errorf("columns = %s, want %s (the addon label, else the ApplicationSet; never a hand-made Application)", got, want)
	}
	var rows []string
	for _, c := range f.Clusters {
		rows = append(rows, c.Name+"="+c.Environment)
	}
	if got, want := strings.Join(rows, ","), "eks-develop-a=develop,eks-old=develop,eks-prod-a=prod,eks-staging-b=staging"; got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	var others []string
	for _, a := range f.Others() {
		others = append(others, a.Name)
	}
	if got := strings.Join(others, ","); got != "debug-tools,root" {
		t.Errorf("Applications apart = %s, want debug-tools,root", got)
	}
	for _, tc := range []struct{ cluster, addon, version, target, cell string }{
		// The last history entry's chart revision, not the spec's range "10.1.*".
		{"eks-develop-a", "argo-cd", "10.1.1", "", "10.1.1"},
		{"eks-prod-a", "argo-cd", "6.6.0", "10.1.1", "6.6.0->10.1.1 OutOfSync/Healthy op:Running"},
		// Destination by server, resolved to the registered cluster's name.
		{"eks-develop-a", "crossplane", "2.3.3", "2.3.4", "2.3.3->2.3.4 OutOfSync/Degraded op:Failed"},
		{"eks-prod-a", "crossplane", "", "", "Unknown/Unknown"},
		// A Git source: the commit, shortened.
		{"eks-old", "legacy-monitoring", "fedcba9", "", "fedcba9"},
	} {
		a, ok := f.Cell(tc.cluster, tc.addon)
		if !ok {
			t.Errorf("no cell %s × %s", tc.cluster, tc.addon)
			continue
		}
		if a.Version != tc.version || a.TargetVersion != tc.target {
			t.Errorf("%s × %s: version %q target %q, want %q %q", tc.cluster, tc.addon, a.Version, a.TargetVersion, tc.version, tc.target)
		}
		if got := CellText(a, false); got != tc.cell {
			t.Errorf("%s × %s: cell %q, want %q", tc.cluster, tc.addon, got, tc.cell)
		}
	}
	if ready, total := f.Summary(); ready != 3 || total != 7 {
		t.Errorf("summary %d/%d, want 3/7", ready, total)
	}
}

func TestMessagesOnePerLine(t *testing.T) {
	f := readFixture(t)
	var b bytes.Buffer
	if err := WriteTable(&b, f, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range []string{
		"addon-crossplane-eks-develop-a  (cluster eks-develop-a, addon crossplane)",
		"    SyncError: Failed sync attempt to 2.3.4: one or more objects failed to apply",
		`    operation Failed: one or more objects failed to apply, reason: CustomResourceDefinition "providers.pkg.crossplane.io" is invalid`,
		"    spec.versions[0].schema: Required value",
		"    health: Deployment crossplane has 0/1 ready replicas",
		"    rpc error: code = Unknown",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks the line %q:\n%s", line, out)
		}
	}
	// A succeeded operation's message is noise, not a problem.
	if strings.Contains(out, "successfully synced") {
		t.Errorf("a succeeded operation's message is shown:\n%s", out)
	}
}

func TestArgoCDNotInstalled(t *testing.T) {
	hub := fakeHub(t, nil)
	hub.PrependReactor("list", "applications", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, "")
	})
	_, err := Read(context.Background(), hub, "argocd")
	if !errors.Is(err, ErrArgoCDNotInstalled) {
		t.Fatalf("err = %v, want ErrArgoCDNotInstalled", err)
	}
	for _, want := range []string{"Argo CD is not installed on this cluster", "hubctl bootstrap", "list applications.argoproj.io in namespace argocd"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSecretsForbiddenFallsBackToLabels(t *testing.T) {
	hub := fakeHub(t, fixture(t))
	hub.PrependReactor("list", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("RBAC"))
	})
	f, err := Read(context.Background(), hub, "argocd")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) == 0 || !strings.Contains(f.Warnings[0], "cannot list the cluster Secrets") {
		t.Errorf("warnings = %q", f.Warnings)
	}
	a, _ := f.Cell("eks-develop-a", "argo-cd")
	if a.Environment != "develop" {
		t.Errorf("environment = %q, want develop (the Application's label)", a.Environment)
	}
}

func TestWatchReprintsOnChange(t *testing.T) {
	hub := fakeHub(t, fixture(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fleets := make(chan *Fleet, 16)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, hub, nil, "argocd", func(f *Fleet) error { fleets <- f; return nil })
	}()
	first := <-fleets
	if a, _ := first.Cell("eks-prod-a", "crossplane"); a.Sync != "" {
		t.Fatalf("first read: sync %q", a.Sync)
	}
	// Argo CD writes the status: the watch prints the new state. Retry the
	// update until the informer has started (the fake client has no
	// resourceVersion-based replay).
	app, err := hub.Resource(ApplicationsGVR).Namespace("argocd").Get(ctx, "addon-crossplane-eks-prod-a", metav1GetOptions)
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedMap(app.Object, map[string]any{
		"sync":    map[string]any{"status": "Synced", "revision": "2.3.4"},
		"health":  map[string]any{"status": "Healthy"},
		"history": []any{map[string]any{"id": int64(0), "revision": "2.3.4"}},
	}, "status")
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		app.SetLabels(map[string]string{AddonLabel: "crossplane", "tick": time.Now().Format("150405.000")[7:]})
		if _, err := hub.Resource(ApplicationsGVR).Namespace("argocd").Update(ctx, app, metav1UpdateOptions); err != nil {
			t.Fatal(err)
		}
		select {
		case f := <-fleets:
			if a, _ := f.Cell("eks-prod-a", "crossplane"); a.Ready() && a.Version == "2.3.4" {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Watch returned %v after ctx ended, want nil", err)
				}
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatal("the watch did not report the update")
		}
	}
}

func TestSlimClusterSecretDropsCredentials(t *testing.T) {
	for _, o := range fixture(t) {
		if o.GetKind() != "Secret" {
			continue
		}
		slim, err := slimClusterSecret(o)
		if err != nil {
			t.Fatal(err)
		}
		data, _, _ := unstructured.NestedStringMap(slim.(*unstructured.Unstructured).Object, "data")
		if _, ok := data["config"]; ok {
			t.Errorf("%s: the slim Secret keeps config", o.GetName())
		}
		if data["name"] == "" {
			t.Errorf("%s: the slim Secret lost its name", o.GetName())
		}
	}
}

func TestSlimApplicationKeepsWhatStatusShows(t *testing.T) {
	var apps []*unstructured.Unstructured
	var slims []*unstructured.Unstructured
	for _, o := range fixture(t) {
		if o.GetKind() != "Application" {
			continue
		}
		s, err := slimApplication(o)
		if err != nil {
			t.Fatal(err)
		}
		apps, slims = append(apps, o), append(slims, s.(*unstructured.Unstructured))
	}
	var full, slim bytes.Buffer
	if err := WriteJSON(&full, Build(apps, nil)); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&slim, Build(slims, nil)); err != nil {
		t.Fatal(err)
	}
	if full.String() != slim.String() {
		t.Errorf("the informer's slim copies give another status:\n%s\nvs\n%s", full.String(), slim.String())
	}
}

var (
	metav1GetOptions    = metav1.GetOptions{}
	metav1UpdateOptions = metav1.UpdateOptions{}
)

// Field meanings: argo-cd pkg/apis/application/v1alpha1/types.go (SyncStatus,
// RevisionHistory).
func TestVersions(t *testing.T) {
	sha1, sha2 := "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"
	chartSources := []any{
		map[string]any{"repoURL": "https://git.example/x.git", "ref": "values"},
		map[string]any{"repoURL": "https://charts.example", "chart": "c"},
	}
	for _, tc := range []struct {
		name             string
		status           map[string]any
		spec             map[string]any
		running, pending string
	}{
		{"Synced at a new commit that changed nothing: the commit runs",
			map[string]any{"sync": map[string]any{"status": "Synced", "revision": sha2}, "history": []any{map[string]any{"revision": sha1}}},
			nil, "89abcde", ""},
		{"OutOfSync: the last sync runs, the compared revision is pending",
			map[string]any{"sync": map[string]any{"status": "OutOfSync", "revision": sha2}, "history": []any{map[string]any{"revision": sha1}}},
			nil, "0123456", "89abcde"},
		{"multi-source: the chart source's revision, matched by the spec when status has no sources",
			map[string]any{"sync": map[string]any{"status": "OutOfSync", "revisions": []any{sha2, "2.0.0"}}, "history": []any{map[string]any{"revisions": []any{sha1, "1.0.0"}}}},
			map[string]any{"sources": chartSources}, "1.0.0", "2.0.0"},
		{"never synced, never compared", map[string]any{}, nil, "", ""},
		{"a tag is not shortened",
			map[string]any{"sync": map[string]any{"status": "Synced", "revision": "v1.2.3"}}, nil, "v1.2.3", ""},
	} {
		o := map[string]any{"status": tc.status}
		if tc.spec != nil {
			o["spec"] = tc.spec
		}
		sync, _, _ := unstructured.NestedString(o, "status", "sync", "status")
		running, pending := versions(o, sync)
		if running != tc.running || pending != tc.pending {
			t.Errorf("%s: (%q, %q), want (%q, %q)", tc.name, running, pending, tc.running, tc.pending)
		}
	}
}

func TestTwoApplicationsInOneCell(t *testing.T) {
	f := FleetOf([]App{
		{Name: "b-argo", Addon: "argo-cd", Cluster: "c1", Sync: "Synced", Health: "Healthy", Version: "2"},
		{Name: "a-argo", Addon: "argo-cd", Cluster: "c1", Sync: "Synced", Health: "Healthy", Version: "1"},
	})
	if a, ok := f.Cell("c1", "argo-cd"); !ok || a.Name != "a-argo" {
		t.Errorf("cell = %+v, want a-argo (the first by name)", a)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "a-argo and b-argo are both addon argo-cd on cluster c1") {
		t.Errorf("warnings = %q", f.Warnings)
	}
}
