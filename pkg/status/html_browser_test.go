package status

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
)

// chromiumPath finds Debian's chromium (apt-get install chromium), or another
// Chrome on PATH.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where the test leaves its screenshot: $TEST_ARTIFACTS when
// set (CI keeps it), else the test's temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestHTMLPageInBrowser opens the page status --html writes in a real
// headless Chromium: the matrix's cells, the problems first, a cell's
// details on click, and the client view (status --clients).
func TestHTMLPageInBrowser(t *testing.T) {
	browser := chromiumPath()
	if browser == "" {
		msg := "chromium not found (apt-get install chromium)"
		if os.Getenv("HUBCTL_REQUIRE_REAL_CLUSTERS") == "1" {
			t.Fatal(msg + " ($HUBCTL_REQUIRE_REAL_CLUSTERS=1)")
		}
		t.Skip(msg)
	}
	f := readFixture(t)
	f.Hub = "hub-context"
	f.Clients = readClientsFixture(t)
	var page bytes.Buffer
	if err := WriteHTML(&page, f); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "status.html")
	if err := fsutil.ReplaceFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// No network: these flags keep Chromium from calling home, and a fresh
	// profile keeps runs apart.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1400, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible("#matrix")); err != nil {
		t.Fatalf("chromium (%s): open %s: %v", browser, path, err)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if got := eval(`document.title`); got != "Fleet status · hub-context" {
		t.Errorf("title = %q", got)
	}
	if got := eval(`document.getElementById('summary').innerText`); got != "3/7 Applications Synced and Healthy" {
		t.Errorf("summary = %q", got)
	}
	// Problems first: the list of problems comes before the matrix, and the
	// clusters with problems are the first rows.
	if got := eval(`document.querySelector('#problems li').innerText`); !strings.HasPrefix(got, "addon-argo-cd-eks-prod-a") {
		t.Errorf("first problem = %q", got)
	}
	if got := eval(`String(document.getElementById('problems').compareDocumentPosition(document.getElementById('matrix')) & Node.DOCUMENT_POSITION_FOLLOWING)`); got == "0" {
		t.Error("the problems do not come before the matrix")
	}
	if got := eval(`Array.from(document.querySelectorAll('#matrix tbody tr th')).map(th => th.innerText).join(',')`); got != "eks-develop-a,eks-prod-a,eks-old,eks-staging-b" {
		t.Errorf("rows = %s, want the clusters with problems first", got)
	}
	cells := eval(`Array.from(document.querySelectorAll('#matrix td.cell')).map(c => c.dataset.app + '=' + c.innerText.replace(/\s+/g,' ').trim()).join('\n')`)
	wantCells := []string{
		"addon-argo-cd-eks-develop-a=10.1.1 Synced/Healthy",
		"addon-crossplane-eks-develop-a=2.3.3 (target 2.3.4) OutOfSync/Degraded op:Failed",
		"addon-argo-cd-eks-prod-a=6.6.0 (target 10.1.1) OutOfSync/Healthy op:Running",
		"addon-crossplane-eks-prod-a=- Unknown/Unknown",
		"legacy-monitoring-eks-old=fedcba9 Synced/Healthy",
	}
	if cells != strings.Join(wantCells, "\n") {
		t.Errorf("cells:\n%s\nwant:\n%s", cells, strings.Join(wantCells, "\n"))
	}
	if got := eval(`String(document.getElementById('details').hidden)`); got != "true" {
		t.Error("the details panel shows before any click")
	}

	cctx, cancelClick := context.WithTimeout(bctx, 20*time.Second)
	defer cancelClick()
	if err := chromedp.Do(cctx, chromedp.Click(`#matrix td[data-app="addon-crossplane-eks-develop-a"]`)); err != nil {
		t.Fatalf("click a cell: %v", err)
	}
	// The click's handler has run once Click returns (the input event is
	// dispatched synchronously); the panel is then laid out and visible.
	if got := eval(`(() => { const p = document.getElementById('details'); const r = p.getBoundingClientRect(); return String(!p.hidden && getComputedStyle(p).display !== 'none' && r.width > 0 && r.height > 0); })()`); got != "true" {
		t.Fatal("the details panel is not visible after a click on a cell")
	}
	details := eval(`document.getElementById('details').innerText`)
	for _, want := range []string{"addon-crossplane-eks-develop-a", "eks-develop-a", "develop", "2.3.3", "spec.versions[0].schema: Required value", "Deployment crossplane has 0/1 ready replicas"} {
		if !strings.Contains(details, want) {
			t.Errorf("details after the click lack %q:\n%s", want, details)
		}
	}

	// The client view: a row per client Application, one per cluster without any, the
	// unavailable cluster among the problems, a client Application's details on click.
	if got := eval(`document.getElementById('clients-summary').innerText`); got != "client Argo CD: 2/3 Applications Synced and Healthy on 3 hosting cluster(s) (1 unavailable, 1 without Argo CD)" {
		t.Errorf("clients summary = %q", got)
	}
	rows := eval(`Array.from(document.querySelectorAll('#clients tbody tr')).map(r => Array.from(r.cells).map(c => c.innerText.trim()).join('|')).join('\n')`)
	for _, want := range []string{
		"eks-develop-a|guestbook|Synced|Healthy|aaaaaaa",
		"eks-develop-a|payments|OutOfSync|Degraded|aaaaaaa (target bbbbbbb)",
		"eks-develop-a|reports|Synced|Healthy|1.4.2",
		"eks-prod-a|unavailable: cluster eks-prod-a (https://prod.example): list applications.argoproj.io in namespace argocd",
		"eks-staging-b|cluster eks-staging-b (https://staging.example): list applications.argoproj.io in namespace argocd: no Argo CD there",
	} {
		if !strings.Contains(rows, want) {
			t.Errorf("client rows lack %q:\n%s", want, rows)
		}
	}
	if got := eval(`document.querySelector('#problems li.unavailable').innerText`); !strings.Contains(got, "cluster eks-prod-a (https://prod.example)") {
		t.Errorf("the unavailable cluster among the problems: %q", got)
	}
	if err := chromedp.Do(cctx, chromedp.Click(`#clients td[data-app="payments"]`)); err != nil {
		t.Fatalf("click a client Application: %v", err)
	}
	details = eval(`document.getElementById('details').innerText`)
	for _, want := range []string{"payments", "eks-develop-a", "the image pull secret is missing", "Deployment payments has 0/2 ready replicas"} {
		if !strings.Contains(details, want) {
			t.Errorf("details of the client Application lack %q:\n%s", want, details)
		}
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(artifactDir(t), "status.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}
