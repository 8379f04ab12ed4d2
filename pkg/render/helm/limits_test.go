package helm

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// demoIndex is an index.yaml listing chart demo 1.0.0 at chartURL.
func demoIndex(chartURL string) string {
	return fmt.Sprintf("apiVersion: v1\nentries:\n  demo:\n  - name: demo\n    version: 1.0.0\n    urls: [%q]\n", chartURL)
}

var demoRef = func(repoURL string) ChartRef { return ChartRef{RepoURL: repoURL, Chart: "demo", Version: "1.0.0"} }

// Issue 7: a repoURL without a scheme (a cluster annotation, say) was read from the local disk.
// Argo CD only knows http(s) and OCI chart repositories; a folder is only a mirror's target.
func TestLoadRefusesRepoURLWithoutScheme(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(demoIndex("demo-1.0.0.tgz")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{dir, "charts", "./charts", "file://" + dir} {
		_, err := (&Cache{}).Load(context.Background(), demoRef(u))
		if err == nil || !strings.Contains(err.Error(), "only http://, https:// and oci:// URLs are chart repositories") {
			t.Errorf("repoURL %q: err = %v, want a refusal", u, err)
		}
	}
	// The same folder as a mirror's target is still read (the chart is missing: the index was read).
	c := &Cache{Mirrors: []Mirror{{From: "https://charts.example.test", To: dir}}}
	_, err := c.Load(context.Background(), demoRef("https://charts.example.test"))
	if err == nil || !strings.Contains(err.Error(), "demo-1.0.0") || strings.Contains(err.Error(), "only http") {
		t.Errorf("mirror to a folder: err = %v, want the package download to fail", err)
	}
}

// A repository that accepts the connection and never answers fails after the overall timeout.
func TestLoadSilentRepositoryTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &Cache{Limits: Limits{Timeout: 300 * time.Millisecond}}
	done := make(chan error, 1)
	go func() { _, err := c.Load(context.Background(), demoRef(srv.URL)); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), srv.URL+"/index.yaml") || !strings.Contains(err.Error(), "--http-timeout") {
			t.Errorf("err = %v, want a timeout naming the URL and --http-timeout", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Load still waiting on a silent repository after a minute")
	}
}

// streamServer answers index.yaml with an endless body (no Content-Length) and counts the bytes
// it managed to write.
func streamServer(t *testing.T, prefix string, declare int64) (*httptest.Server, *atomic.Int64) {
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if declare > 0 {
			w.Header().Set("Content-Length", fmt.Sprint(declare))
		}
		n, err := w.Write([]byte(prefix))
		written.Add(int64(n))
		line := []byte("# " + strings.Repeat("x", 1021) + "\n")
		for err == nil && r.Context().Err() == nil {
			n, err = w.Write(line)
			written.Add(int64(n))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &written
}

// A huge index.yaml fails at the cap, with the URL, without reading it whole.
func TestLoadIndexOverTheCap(t *testing.T) {
	srv, written := streamServer(t, "apiVersion: v1\nentries: {}\n", 0)
	c := &Cache{Limits: Limits{MaxIndexSize: 1 << 20, Timeout: time.Minute}}
	_, err := c.Load(context.Background(), demoRef(srv.URL))
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/index.yaml: response larger than 1Mi") || !strings.Contains(err.Error(), "--max-index-size") {
		t.Fatalf("err = %v, want the 1 MiB cap naming the URL", err)
	}
	srv.Close() // waits for the handler
	// The client stopped reading at the cap: what the server wrote is the cap plus socket buffers.
	if w := written.Load(); w > 64<<20 {
		t.Errorf("the server wrote %d bytes before the client stopped", w)
	}

	// A Content-Length over the cap fails before the body is read.
	srv2, _ := streamServer(t, "apiVersion: v1\n", 3<<30)
	_, err = c.Load(context.Background(), demoRef(srv2.URL))
	if err == nil || !strings.Contains(err.Error(), "larger than 1Mi") {
		t.Errorf("declared 3 GiB: err = %v", err)
	}
}

// A chart package over the cap fails with its URL.
func TestLoadChartOverTheCap(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, demoIndex("demo-1.0.0.tgz")) })
	mux.HandleFunc("/demo-1.0.0.tgz", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100<<10)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &Cache{Limits: Limits{MaxChartSize: 64 << 10}}
	_, err := c.Load(context.Background(), demoRef(srv.URL))
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/demo-1.0.0.tgz: response larger than 64Ki") || !strings.Contains(err.Error(), "--max-chart-size") {
		t.Errorf("err = %v", err)
	}
	// A local mirror folder has the same cap.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(demoIndex("demo-1.0.0.tgz")), 0o644)
	os.WriteFile(filepath.Join(dir, "demo-1.0.0.tgz"), make([]byte, 100<<10), 0o644)
	c = &Cache{Limits: Limits{MaxChartSize: 64 << 10}, Mirrors: []Mirror{{From: "https://charts.example.test", To: dir}}}
	_, err = c.Load(context.Background(), demoRef("https://charts.example.test"))
	if err == nil || !strings.Contains(err.Error(), "larger than 64Ki") {
		t.Errorf("local mirror: err = %v", err)
	}
}

// With --chart-mirror, fetches stay on the mirror: no redirect to another host, no absolute
// chart URL of the mirror's index.yaml on another host. Without a mirror, redirects are
// followed as helm follows them.
func TestMirrorConfinesFetches(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, demoIndex("demo-1.0.0.tgz"))
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirecting.Close()
	absolute := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, demoIndex(other.URL+"/demo-1.0.0.tgz"))
	}))
	defer absolute.Close()
	const upstream = "https://charts.example.test/stable"

	c := &Cache{Mirrors: []Mirror{{From: upstream, To: redirecting.URL}}}
	_, err := c.Load(context.Background(), demoRef(upstream))
	if err == nil || !strings.Contains(err.Error(), "redirect from "+redirecting.URL+"/index.yaml to "+other.URL+"/index.yaml refused") {
		t.Errorf("redirect: err = %v", err)
	}
	c = &Cache{Mirrors: []Mirror{{From: upstream, To: absolute.URL}}}
	_, err = c.Load(context.Background(), demoRef(upstream))
	if err == nil || !strings.Contains(err.Error(), "chart URL "+other.URL+"/demo-1.0.0.tgz is not on the chart mirror "+absolute.URL) {
		t.Errorf("absolute URL: err = %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests left the mirror", n)
	}
	// No mirror: the redirect is followed (then the package is missing there).
	_, err = (&Cache{}).Load(context.Background(), demoRef(redirecting.URL))
	if elsewhere.Load() == 0 || err == nil || strings.Contains(err.Error(), "refused") {
		t.Errorf("without a mirror the redirect is followed: %d requests, err = %v", elsewhere.Load(), err)
	}
}
