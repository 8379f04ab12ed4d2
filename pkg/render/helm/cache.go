package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ChartRef names a chart in a repository, as an Argo CD Helm source does: RepoURL is
// spec.source.repoURL, Chart is spec.source.chart and Version is spec.source.targetRevision
// (an exact version or a semver constraint such as "1.2.*" or ">=1.0").
type ChartRef struct{ RepoURL, Chart, Version string }

func (r ChartRef) String() string {
	return fmt.Sprintf("chart %q version %q from %s", r.Chart, r.Version, r.RepoURL)
}

// Mirror rewrites a repository URL prefix (hubctl's --chart-mirror FROM=TO). To is an http(s)
// Helm repository URL, an oci:// registry, or a local folder of packaged charts (*.tgz, with
// or without index.yaml). A local folder is only ever reached through a Mirror: a repoURL
// itself must be http(s):// or oci://.
type Mirror struct{ From, To string }

// ParseMirror parses "FROM=TO" (split at the first '=').
func ParseMirror(s string) (Mirror, error) {
	from, to, ok := strings.Cut(s, "=")
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if !ok || from == "" || to == "" {
		return Mirror{}, fmt.Errorf("invalid chart mirror %q: want FROM=TO, e.g. https://charts.example.com=./charts", s)
	}
	return Mirror{From: from, To: to}, nil
}

// Cache fetches charts from Helm repositories and keeps them.
//
// Each chart is fetched at most once per process (concurrent callers share one fetch). With
// Dir set, downloaded packages are stored content-addressed (Dir/blobs/sha256/<hex>.tgz,
// the sha256 of the .tgz) with an index from (repository, chart, version) to that digest
// (Dir/refs/<hex>.json), so a later process does not download them again. Charts read from a
// local folder are not copied into Dir. Every write is atomic (temp file + rename).
//
// The zero value is usable (no disk cache). A Cache must not be copied after first use.
type Cache struct {
	// Dir is the on-disk cache; "" keeps charts in memory only.
	Dir string
	// Mirrors rewrite repository URL prefixes; the longest matching From wins.
	Mirrors []Mirror
	// Limits bound every network call and every chart or index read; zero fields take the
	// defaults (DefaultLimits).
	Limits Limits

	mu      sync.Mutex
	client  *http.Client
	charts  map[string]*flight[*chart.Chart]
	indexes map[string]*flight[*repo.IndexFile]
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// share runs fn once per key among concurrent callers and keeps successful results for the
// life of the Cache; a failure is returned to the callers that waited for it and retried by
// the next one. A caller whose context ends stops waiting.
func share[T any](ctx context.Context, mu *sync.Mutex, m *map[string]*flight[T], key string, fn func() (T, error)) (T, error) {
	for {
		mu.Lock()
		if *m == nil {
			*m = map[string]*flight[T]{}
		}
		f, ok := (*m)[key]
		if !ok {
			f = &flight[T]{done: make(chan struct{})}
			(*m)[key] = f
			mu.Unlock()
			f.val, f.err = fn()
			if f.err != nil {
				mu.Lock()
				delete(*m, key)
				mu.Unlock()
			}
			close(f.done)
			return f.val, f.err
		}
		mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		// Another caller's cancellation is not our failure: try again ourselves.
		if f.err != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue
		}
		return f.val, f.err
	}
}

type sourceKind int

const (
	kindHTTP sourceKind = iota
	kindOCI
	kindLocal
)

// source is where a repository really is, after mirrors.
type source struct {
	kind     sourceKind
	loc      string // http(s) base URL, oci:// URL, or absolute folder path
	mirrored bool   // a Mirror rewrote the repository URL
}

func (s source) String() string {
	switch s.kind {
	case kindLocal:
		return "local folder " + s.loc
	case kindOCI:
		return "OCI registry " + s.loc
	default:
		return "Helm repository " + s.loc
	}
}

// describe names the repository for errors: the source and, if mirrored, the original URL.
func describe(ref ChartRef, src source) string {
	if !src.mirrored {
		return src.String()
	}
	return fmt.Sprintf("%s (mirror of %s)", src, ref.RepoURL)
}

// resolve applies the longest matching mirror (the last one given among
// equally long matches, so that a flag overrides the config file) and
// classifies the result.
func (c *Cache) resolve(repoURL string) (source, error) {
	u := strings.TrimSuffix(strings.TrimSpace(repoURL), "/")
	if u == "" {
		return source{}, errors.New("empty repository URL")
	}
	best := -1
	for i, m := range c.Mirrors {
		from := strings.TrimSuffix(m.From, "/")
		if from == "" || (u != from && !strings.HasPrefix(u, from+"/")) {
			continue
		}
		if best < 0 || len(from) >= len(strings.TrimSuffix(c.Mirrors[best].From, "/")) {
			best = i
		}
	}
	var target string
	rest := ""
	if best >= 0 {
		m := c.Mirrors[best]
		rest = strings.TrimPrefix(u, strings.TrimSuffix(m.From, "/"))
		target = strings.TrimSuffix(m.To, "/")
	} else {
		target = u
	}
	mirrored := best >= 0
	switch {
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		return source{kind: kindHTTP, loc: target + rest, mirrored: mirrored}, nil
	case registry.IsOCI(target):
		return source{kind: kindOCI, loc: target + rest, mirrored: mirrored}, nil
	case !mirrored:
		// Argo CD's repo-server only knows http(s) and OCI chart repositories; a repoURL
		// without a scheme (from a cluster annotation, say) must not read the local disk.
		return source{}, fmt.Errorf("chart repository %q: only http://, https:// and oci:// URLs are chart repositories (a local folder of packaged charts can only be the TO side of --chart-mirror FROM=TO)", repoURL)
	case strings.HasPrefix(target, "file://"):
		target = strings.TrimPrefix(target, "file://")
	case strings.Contains(target, "://"):
		return source{}, fmt.Errorf("repository %s: unsupported scheme (want http(s)://, oci:// or a local folder)", target+rest)
	}
	dir, err := filepath.Abs(filepath.Join(target, filepath.FromSlash(rest)))
	if err != nil {
		return source{}, err
	}
	return source{kind: kindLocal, loc: dir, mirrored: mirrored}, nil
}

// Limits bound what a Cache reads from the network and from chart folders.
type Limits struct {
	// ConnectTimeout bounds establishing a connection: TCP connect and TLS handshake.
	ConnectTimeout time.Duration
	// Timeout bounds one whole request, from connecting to the last byte of the body.
	Timeout time.Duration
	// MaxIndexSize caps a repository's index.yaml, in bytes.
	MaxIndexSize int64
	// MaxChartSize caps a chart package (.tgz) and any other response, in bytes.
	MaxChartSize int64
}

// DefaultLimits are the limits of a zero Limits field: well above any real repository
// (the largest public index.yaml files are a few MiB, charts a few hundred KiB).
var DefaultLimits = Limits{
	ConnectTimeout: 30 * time.Second,
	Timeout:        5 * time.Minute,
	MaxIndexSize:   64 << 20,
	MaxChartSize:   64 << 20,
}

func (c *Cache) limits() Limits {
	l := c.Limits
	if l.ConnectTimeout <= 0 {
		l.ConnectTimeout = DefaultLimits.ConnectTimeout
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MaxIndexSize <= 0 {
		l.MaxIndexSize = DefaultLimits.MaxIndexSize
	}
	if l.MaxChartSize <= 0 {
		l.MaxChartSize = DefaultLimits.MaxChartSize
	}
	return l
}

// confinedKey marks a request context whose redirects must stay on the same host: fetches
// from a --chart-mirror.
type confinedKey struct{}

// httpClient is the client of every http(s) and OCI request: connect and overall timeouts,
// a cap on every response body, and no redirect away from a mirror's host.
func (c *Cache) httpClient() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client
	}
	l := c.limits()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: l.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = l.ConnectTimeout
	c.client = &http.Client{
		Transport: &capTransport{base: tr, max: max(l.MaxIndexSize, l.MaxChartSize)},
		Timeout:   l.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if from, ok := req.Context().Value(confinedKey{}).(string); ok && !sameHost(req.URL, via[0].URL) {
				return fmt.Errorf("redirect from %s to %s refused: fetches from the chart mirror %s stay on its host", via[len(via)-1].URL.Redacted(), req.URL.Redacted(), from)
			}
			return nil
		},
	}
	return c.client
}

func sameHost(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}

// capTransport fails a response body past max bytes: the bound for OCI blobs, which helm's
// registry client reads whole.
type capTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &capBody{ReadCloser: resp.Body, left: t.max, max: t.max, url: req.URL}
	return resp, nil
}

type capBody struct {
	io.ReadCloser
	left, max int64
	url       *url.URL
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells a body at the limit from a larger one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, tooLarge(b.url, b.max, "--max-chart-size")
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// tooLarge is the error of a response or file over its limit.
func tooLarge(u *url.URL, limit int64, flag string) error {
	return fmt.Errorf("GET %s: response larger than %s, hubctl's limit (raise it with %s)", u.Redacted(), formatSize(limit), flag)
}

// formatSize writes n as a Kubernetes quantity (64Mi), as hubctl.yaml and the flags take it.
func formatSize(n int64) string { return resource.NewQuantity(n, resource.BinarySI).String() }

// Load returns the chart, fetched at most once per process.
//
// Http(s) repositories are read like `helm pull --repo`: index.yaml (relative and absolute
// chart URLs), the version picked from it, then the .tgz. Like Argo CD
// (reposerver/repository/repository.go newHelmClientResolveRevision with
// util/versions.MaxVersion), a Version that is not a semver version is a semver constraint
// and resolves to the highest matching version. OCI registries go through helm's registry
// client. The returned chart is shared: do not modify it (Template works on a copy).
func (c *Cache) Load(ctx context.Context, ref ChartRef) (*chart.Chart, error) {
	if ref.Chart == "" {
		return nil, fmt.Errorf("load %s: no chart name", ref)
	}
	src, err := c.resolve(ref.RepoURL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s", src.kind, src.loc, ref.Chart, ref.Version)
	return share(ctx, &c.mu, &c.charts, key, func() (*chart.Chart, error) {
		data, err := c.fetch(ctx, ref, src)
		if err != nil {
			return nil, err
		}
		ch, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("load %s: invalid chart package: %w", ref, err)
		}
		return ch, nil
	})
}

// fetch returns the .tgz of ref from src, through the disk cache for remote sources.
func (c *Cache) fetch(ctx context.Context, ref ChartRef, src source) ([]byte, error) {
	where := describe(ref, src)
	remote := src.kind != kindLocal
	// An exact version already in the disk index needs no network at all. Constraints are
	// always resolved against the current index.yaml / tags, as Argo CD does.
	if remote && isVersion(ref.Version) {
		if data, ok := c.readCached(src, ref.Chart, ref.Version); ok {
			return data, nil
		}
	}
	switch src.kind {
	case kindOCI:
		return c.fetchOCI(ctx, ref, src, where)
	default:
		idx, err := c.index(ctx, src, where)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", ref, err)
		}
		cv, err := pickVersion(idx, ref.Chart, ref.Version, where)
		if err != nil {
			return nil, err
		}
		if len(cv.URLs) == 0 {
			return nil, fmt.Errorf("load %s: %s lists %s-%s without a download URL", ref, where, cv.Name, cv.Version)
		}
		if remote {
			if data, ok := c.readCached(src, ref.Chart, cv.Version); ok {
				c.writeRef(src, ref.Chart, ref.Version, sha256Hex(data))
				return data, nil
			}
		}
		var data []byte
		if src.kind == kindLocal {
			data, err = readLocalChart(src.loc, cv.URLs[0], c.limits().MaxChartSize)
		} else {
			var u string
			if u, err = repo.ResolveReferenceURL(src.loc, cv.URLs[0]); err == nil {
				if err = confined(src, u); err == nil {
					data, err = c.get(ctx, src, u, c.limits().MaxChartSize, "--max-chart-size")
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: download %s-%s from %s: %w", ref, cv.Name, cv.Version, where, err)
		}
		if remote {
			c.store(src, ref.Chart, data, cv.Version, ref.Version)
		}
		return data, nil
	}
}

// index returns the repository's index.yaml, read once per process. A local folder without
// index.yaml is indexed like `helm repo index` (repo.IndexDirectory).
func (c *Cache) index(ctx context.Context, src source, where string) (*repo.IndexFile, error) {
	key := fmt.Sprintf("%d\x00%s", src.kind, src.loc)
	return share(ctx, &c.mu, &c.indexes, key, func() (*repo.IndexFile, error) {
		if src.kind == kindLocal {
			st, err := os.Stat(src.loc)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("%s: %w (a repository URL without a scheme is a local folder; write OCI registries as oci://)", where, err)
				}
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if !st.IsDir() {
				return nil, fmt.Errorf("%s: not a directory", where)
			}
			p := filepath.Join(src.loc, "index.yaml")
			if _, err := os.Stat(p); err == nil {
				data, err := readLimited(p, c.limits().MaxIndexSize, "--max-index-size")
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				idx, err := loadIndex(data)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				return idx, nil
			}
			idx, err := repo.IndexDirectory(src.loc, "")
			if err != nil {
				return nil, fmt.Errorf("%s: index packaged charts: %w", where, err)
			}
			idx.SortEntries()
			return idx, nil
		}
		// pkg/repo/chartrepo.go DownloadIndexFile: <repo URL path>/index.yaml, query kept.
		u, err := url.Parse(src.loc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/index.yaml"
		u.RawPath = ""
		data, err := c.get(ctx, src, u.String(), c.limits().MaxIndexSize, "--max-index-size")
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid chart repository or cannot be reached: %w", where, err)
		}
		idx, err := loadIndex(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return idx, nil
	})
}

// loadIndex parses index.yaml with helm's own loader (validation, sorting), which reads files.
func loadIndex(data []byte) (*repo.IndexFile, error) {
	f, err := os.CreateTemp("", "hubctl-helm-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	idx, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		return nil, fmt.Errorf("invalid index.yaml: %w", errors.Unwrap(err))
	}
	return idx, nil
}

// isVersion is Argo CD's util/versions.IsVersion: a (possibly partial or v-prefixed) semver
// version, as opposed to a constraint.
func isVersion(s string) bool {
	_, err := semver.NewVersion(s)
	return err == nil
}

// pickVersion finds the chart version. An exact version is looked up like `helm pull
// --version` (repo.IndexFile.Get: exact string first, then the newest version it matches);
// anything else is a semver constraint resolved like Argo CD's util/versions.MaxVersion.
func pickVersion(idx *repo.IndexFile, name, version, where string) (*repo.ChartVersion, error) {
	vs, ok := idx.Entries[name]
	if !ok || len(vs) == 0 {
		return nil, fmt.Errorf("chart %q not found in %s", name, where)
	}
	available := func() string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Version)
		}
		return strings.Join(out, ", ")
	}
	if isVersion(version) {
		cv, err := idx.Get(name, version)
		if err != nil {
			return nil, fmt.Errorf("chart %q version %q not found in %s (available: %s)", name, version, where, available())
		}
		return cv, nil
	}
	constraint, err := semver.NewConstraint(version)
	if err != nil {
		return nil, fmt.Errorf("chart %q: invalid revision %q (neither a version nor a semver constraint): %w", name, version, err)
	}
	var best *repo.ChartVersion
	var bestV *semver.Version
	for _, cv := range vs {
		v, err := semver.NewVersion(cv.Version)
		if err != nil {
			continue
		}
		if constraint.Check(v) && (bestV == nil || v.GreaterThan(bestV)) {
			best, bestV = cv, v
		}
	}
	if best == nil {
		return nil, fmt.Errorf("chart %q: no version matching constraint %q in %s (available: %s)", name, version, where, available())
	}
	return best, nil
}

// fetchOCI pulls oci://<registry>/<path>/<chart>:<version> with helm's registry client. A
// constraint is resolved against the registry's tags like Argo CD does; a digest
// ("sha256:...") is pulled by digest.
func (c *Cache) fetchOCI(ctx context.Context, ref ChartRef, src source, where string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	client, err := registry.NewClient(registry.ClientOptHTTPClient(c.httpClient()))
	if err != nil {
		return nil, fmt.Errorf("load %s: OCI registry client: %w", ref, err)
	}
	base := strings.TrimPrefix(src.loc, "oci://") + "/" + ref.Chart
	version := ref.Version
	var pullRef string
	switch {
	case strings.HasPrefix(version, "sha256:"):
		pullRef = base + "@" + version
	case isVersion(version):
		pullRef = base + ":" + strings.ReplaceAll(version, "+", "_")
	default:
		constraint, err := semver.NewConstraint(version)
		if err != nil {
			return nil, fmt.Errorf("load %s: invalid revision %q: %w", ref, version, err)
		}
		tags, err := client.Tags(base)
		if err != nil {
			return nil, fmt.Errorf("load %s: list tags of %s in %s: %w", ref, ref.Chart, where, err)
		}
		var best *semver.Version
		for _, t := range tags {
			v, err := semver.NewVersion(t)
			if err == nil && constraint.Check(v) && (best == nil || v.GreaterThan(best)) {
				best = v
			}
		}
		if best == nil {
			return nil, fmt.Errorf("load %s: no tag of %s matching %q in %s", ref, ref.Chart, version, where)
		}
		version = best.Original()
		if data, ok := c.readCached(src, ref.Chart, version); ok {
			return data, nil
		}
		pullRef = base + ":" + strings.ReplaceAll(version, "+", "_")
	}
	res, err := client.Pull(pullRef, registry.PullOptWithChart(true))
	if err != nil {
		return nil, fmt.Errorf("load %s: pull oci://%s from %s: %w", ref, pullRef, where, err)
	}
	if res.Chart == nil || len(res.Chart.Data) == 0 {
		return nil, fmt.Errorf("load %s: oci://%s has no chart layer", ref, pullRef)
	}
	c.store(src, ref.Chart, res.Chart.Data, version, ref.Version)
	return res.Chart.Data, nil
}

// get downloads u, failing on any non-2xx status and on a body larger than limit (flag is
// the option that raises it). A fetch from a mirror (src.mirrored) follows no redirect to
// another host.
func (c *Cache) get(ctx context.Context, src source, u string, limit int64, flag string) ([]byte, error) {
	if src.mirrored {
		ctx = context.WithValue(ctx, confinedKey{}, src.loc)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, c.netError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, tooLarge(req.URL, limit, flag)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), c.netError(ctx, err))
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(req.URL, limit, flag)
	}
	return data, nil
}

// netError adds hubctl's limits to a timeout that is not the caller's own deadline.
func (c *Cache) netError(ctx context.Context, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
		l := c.limits()
		return fmt.Errorf("%w (hubctl's limits: connect %s, whole request %s; raise them with --connect-timeout and --http-timeout)", err, l.ConnectTimeout, l.Timeout)
	}
	return err
}

// readLimited reads a file of a local chart folder, at most limit bytes.
func readLimited(path string, limit int64, flag string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s, hubctl's limit (raise it with %s)", path, formatSize(limit), flag)
	}
	return data, nil
}

// confined refuses, for a mirror, a chart URL of its index.yaml on another host: a mirror
// must serve every chart itself.
func confined(src source, chartURL string) error {
	if !src.mirrored {
		return nil
	}
	base, err1 := url.Parse(src.loc)
	u, err2 := url.Parse(chartURL)
	if err1 != nil || err2 != nil || !sameHost(base, u) {
		return fmt.Errorf("chart URL %s is not on the chart mirror %s: a mirror's index.yaml must point to the mirror itself", chartURL, src.loc)
	}
	return nil
}

// readLocalChart reads an index entry's package from a local folder: a relative URL is a path
// under the folder; an absolute URL is looked up by its file name in the folder.
func readLocalChart(dir, ref string, limit int64) ([]byte, error) {
	p := ref
	if u, err := url.Parse(ref); err == nil && u.IsAbs() {
		p = filepath.Base(u.Path)
	} else if u != nil {
		p = u.Path
	}
	full := filepath.Join(dir, filepath.FromSlash(p))
	if rel, err := filepath.Rel(dir, full); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("chart URL %q points outside %s", ref, dir)
	}
	return readLimited(full, limit, "--max-chart-size")
}

// ---- disk cache ----

type refEntry struct {
	Repository string `json:"repository"`
	Chart      string `json:"chart"`
	Version    string `json:"version"`
	Digest     string `json:"digest"` // "sha256:<hex>" of the .tgz
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (c *Cache) blobPath(hexDigest string) string {
	return filepath.Join(c.Dir, "blobs", "sha256", hexDigest+".tgz")
}

func (c *Cache) refPath(src source, chartName, version string) string {
	return filepath.Join(c.Dir, "refs", sha256Hex([]byte(src.loc+"\n"+chartName+"\n"+version))+".json")
}

// readCached returns the package recorded for (repository, chart, version), checking that
// the blob still has its digest.
func (c *Cache) readCached(src source, chartName, version string) ([]byte, bool) {
	if c.Dir == "" || version == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.refPath(src, chartName, version))
	if err != nil {
		return nil, false
	}
	var e refEntry
	if json.Unmarshal(b, &e) != nil || e.Repository != src.loc || e.Chart != chartName || e.Version != version {
		return nil, false
	}
	hexDigest, ok := strings.CutPrefix(e.Digest, "sha256:")
	if !ok {
		return nil, false
	}
	data, err := os.ReadFile(c.blobPath(hexDigest))
	if err != nil || sha256Hex(data) != hexDigest {
		return nil, false
	}
	return data, true
}

// store writes the blob and the refs for every given version string. Failures only cost a
// later download, so they are not reported.
func (c *Cache) store(src source, chartName string, data []byte, versions ...string) {
	if c.Dir == "" {
		return
	}
	d := sha256Hex(data)
	if _, err := os.Stat(c.blobPath(d)); err != nil {
		if fsutil.WriteFileAtomic(c.blobPath(d), data, 0o644) != nil {
			return
		}
	}
	seen := map[string]bool{}
	for _, v := range versions {
		// Only versions, never constraints: those are re-resolved every time.
		if v == "" || seen[v] || (!isVersion(v) && !strings.HasPrefix(v, "sha256:")) {
			continue
		}
		seen[v] = true
		c.writeRef(src, chartName, v, d)
	}
}

func (c *Cache) writeRef(src source, chartName, version, hexDigest string) {
	if c.Dir == "" || (!isVersion(version) && !strings.HasPrefix(version, "sha256:")) {
		return
	}
	b, err := json.MarshalIndent(refEntry{Repository: src.loc, Chart: chartName, Version: version, Digest: "sha256:" + hexDigest}, "", "  ")
	if err != nil {
		return
	}
	_ = fsutil.WriteFileAtomic(c.refPath(src, chartName, version), append(b, '\n'), 0o644)
}
