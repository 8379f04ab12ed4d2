// Package source resolves, offline, what Argo CD's repo-server reads for an
// Application source before it runs Helm: the value files (local, `$ref`
// multi-source, globbed, skipped when missing), inline values, parameters
// and file parameters (ResolveHelm); and it merges values the way Helm does,
// remembering which layer set each value (Merge, FormatProvenance).
//
// Behaviour follows Argo CD v3.6.1, the version the local fleet runs, and
// Helm v3.22.0. Upstream references, by file (argoproj/argo-cd unless
// noted):
//   - reposerver/repository/repository.go: helmTemplate, getResolvedValueFiles,
//     getResolvedRefValueFile, getReferencedSource, newEnv; in recent releases
//     the value file resolver (valueFileResolver.ResolveValueFiles,
//     resolveRawPath, resolveRefValueFile, isGlobPath,
//     verifyGlobMatchesWithinRoot) and the ref source resolver
//     (forEachRefSource) split out of it;
//   - util/argo/argo.go: GetRefSources;
//   - util/io/path/resolved.go: ResolveValueFilePathOrUrl, resolveFileOrDirectory;
//   - util/git/git.go: NormalizeGitURL;
//   - util/helm/cmd.go: template, cleanSetParameters;
//   - docs/user-guide/multiple_sources.md, docs/user-guide/helm.md;
//   - helm/helm pkg/cli/values/options.go (MergeValues, mergeMaps),
//     pkg/chartutil/coalesce.go (coalesceValues, coalesceTablesFullKey),
//     pkg/strvals/parser.go (--set syntax).
package source

import (
	"io/fs"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// sshURL is the shape util/git/git.go IsSSHURL recognises: an optional
// ssh:// scheme and a user@ part.
var sshURL = regexp.MustCompile(`^(ssh://)?([^/:]*?)@[^@]+$`)

// NormalizeRepoURL returns a comparable form of a Git repository URL, as Argo
// CD's git.NormalizeGitURL (util/git/git.go) does: lower case, surrounding
// space removed, an scp-style SSH URL (git@host:org/repo) rewritten to the
// same form as ssh://git@host/org/repo (both become git@host/org/repo), a
// trailing ".git" removed. It also removes trailing slashes, which Argo CD
// keeps (so ".../repo/" and ".../repo" are the same repository here).
// HTTPS and SSH URLs of one repository stay different, as in Argo CD; see
// Repos.Lookup for how they are matched. A URL that net/url cannot parse is
// returned lower-cased and trimmed (git.NormalizeGitURLAllowInvalid).
func NormalizeRepoURL(u string) string {
	s := strings.ToLower(strings.TrimSpace(u))
	if sshURL.MatchString(s) && !strings.HasPrefix(s, "ssh://") {
		s = "ssh://" + strings.Replace(s, ":", "/", 1)
	}
	for {
		t := strings.TrimSuffix(strings.TrimRight(s, "/"), ".git")
		if t == s {
			break
		}
		s = t
	}
	parsed, err := url.Parse(s)
	if err != nil {
		return strings.TrimPrefix(s, "ssh://")
	}
	return strings.TrimPrefix(parsed.String(), "ssh://")
}

// location is host and path of a normalized URL, without scheme, user and
// port: "github.com/org/repo" for https://github.com/org/repo,
// git@github.com:org/repo.git and ssh://git@github.com:22/org/repo.
func location(normalized string) string {
	s := normalized
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	host, p, _ := strings.Cut(s, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	if h, port, ok := strings.Cut(host, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		host = h
	}
	return host + "/" + p
}

// Repos maps Git repository URLs to their content. The zero value is an
// empty set, ready to use; a Repos is safe for concurrent use.
type Repos struct {
	mu    sync.RWMutex
	byURL map[string]fs.FS
	order []string // normalized URLs, in Add order
}

// Add registers fsys as the content of the repository at url (any form
// NormalizeRepoURL accepts). Adding a URL again replaces its content.
func (r *Repos) Add(url string, fsys fs.FS) {
	key := NormalizeRepoURL(url)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byURL == nil {
		r.byURL = map[string]fs.FS{}
	}
	if _, ok := r.byURL[key]; !ok {
		r.order = append(r.order, key)
	}
	r.byURL[key] = fsys
}

// Lookup returns the content of the repository at url. URLs are compared in
// their NormalizeRepoURL form. When no URL matches exactly, a registered URL
// with the same host and path but another scheme, user or port (the SSH
// remote of a clone against the HTTPS repoURL of an Application, say) is
// used, provided every such URL holds the same content; Argo CD would treat
// them as different repositories with different credentials, but offline
// they are one clone.
func (r *Repos) Lookup(url string) (fs.FS, bool) {
	if r == nil {
		return nil, false
	}
	key := NormalizeRepoURL(url)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if fsys, ok := r.byURL[key]; ok {
		return fsys, true
	}
	loc := location(key)
	var found fs.FS
	for _, k := range r.order {
		if location(k) != loc {
			continue
		}
		if found != nil && !sameFS(found, r.byURL[k]) {
			return nil, false // ambiguous
		}
		found = r.byURL[k]
	}
	return found, found != nil
}

// URLs returns the registered URLs, normalized, in the order they were added.
func (r *Repos) URLs() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// sameFS reports whether a and b are the same file system value, without
// panicking on uncomparable ones (fstest.MapFS is a map).
func sameFS(a, b fs.FS) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return va.UnsafePointer() == vb.UnsafePointer()
	}
	if va.Comparable() && vb.Comparable() {
		return va.Equal(vb)
	}
	return false
}
