package manifests

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// remoteScan walks a kustomization and everything it includes (resources,
// components, generator/transformer/validator directories) before the
// build, and fails on any reference kustomize would fetch: kustomize's
// loader downloads http(s) file URLs itself and clones git URLs with the
// git binary, so such a build would leave the machine (or hang). Local
// problems are left for kustomize to report.
type remoteScan struct {
	fs   filesys.FileSystem
	seen map[string]bool
}

func (s *remoteScan) dir(d string) error {
	if s.seen[d] {
		return nil
	}
	s.seen[d] = true
	var (
		data []byte
		name string
	)
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(d, n)
		if s.fs.Exists(p) && !s.fs.IsDir(p) {
			b, err := s.fs.ReadFile(p)
			if err != nil {
				return nil
			}
			data, name = b, n
			break
		}
	}
	if name == "" {
		return nil
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return nil // kustomize reports it
	}
	k.FixKustomization()
	where := strings.TrimPrefix(path.Join(d, name), "/")

	// Entries that may be a file, a directory (kustomization) or a git URL.
	for _, list := range [][]string{k.Resources, k.Components, notInline(k.Generators), notInline(k.Transformers), notInline(k.Validators)} {
		for _, r := range list {
			if err := s.ref(d, where, r); err != nil {
				return err
			}
		}
	}
	// Entries that are files kustomize loads (over http(s) for a URL).
	files := append([]string{}, k.Crds...)
	files = append(files, k.Configurations...)
	for _, p := range k.Patches {
		files = append(files, p.Path)
	}
	for _, p := range k.PatchesJson6902 {
		files = append(files, p.Path)
	}
	for _, p := range k.PatchesStrategicMerge {
		if !strings.Contains(string(p), "\n") {
			files = append(files, string(p))
		}
	}
	for _, r := range k.Replacements {
		files = append(files, r.Path)
	}
	files = append(files, k.OpenAPI["path"])
	for _, g := range k.ConfigMapGenerator {
		files = append(files, generatorFiles(g.GeneratorArgs)...)
	}
	for _, g := range k.SecretGenerator {
		files = append(files, generatorFiles(g.GeneratorArgs)...)
	}
	for _, f := range files {
		if isRemoteFile(f) {
			return remoteErr(where, f)
		}
	}
	return nil
}

// ref checks an entry that kustomize loads as a file, else as a base.
func (s *remoteScan) ref(d, where, r string) error {
	if r == "" || strings.HasPrefix(r, "/") {
		return nil
	}
	if isRemoteFile(r) {
		return remoteErr(where, r)
	}
	p := path.Join(d, r)
	if s.fs.Exists(p) && !s.fs.IsDir(p) {
		return nil
	}
	if isGitLike(r) {
		return remoteErr(where, r)
	}
	if s.fs.IsDir(p) {
		return s.dir(p)
	}
	return nil
}

func remoteErr(where, ref string) error {
	return fmt.Errorf("%s refers to %q: %w (kustomize would download it; vendor it into the repository)", where, ref, ErrRemoteUnsupported)
}

// notInline drops generator/transformer/validator entries given inline
// (a YAML document rather than a path).
func notInline(entries []string) []string {
	var out []string
	for _, e := range entries {
		if !strings.ContainsAny(e, "\n{") {
			out = append(out, e)
		}
	}
	return out
}

// generatorFiles lists the files a configMap/secret generator loads:
// "[key=]path" file sources and env files.
func generatorFiles(g types.GeneratorArgs) []string {
	var out []string
	for _, f := range g.FileSources {
		if strings.Count(f, "=") == 1 {
			_, f, _ = strings.Cut(f, "=")
		}
		out = append(out, f)
	}
	out = append(out, g.EnvSources...)
	if g.EnvSource != "" {
		out = append(out, g.EnvSource)
	}
	return out
}

// isRemoteFile is kustomize's test for a file it fetches over HTTP.
func isRemoteFile(p string) bool {
	u, err := url.Parse(p)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

// isGitLike approximates kustomize's git.NewRepoSpecFromURL: a scheme
// (https, http, ssh, file; after an optional "git::"), an SCP-like
// "user@host:" form, or a github.com path.
func isGitLike(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") {
		return false
	}
	l := strings.ToLower(p)
	l = strings.TrimPrefix(l, "git::")
	for _, pre := range []string{"https://", "http://", "ssh://", "file://", "github.com/", "github.com:"} {
		if strings.HasPrefix(l, pre) {
			return true
		}
	}
	if at := strings.Index(l, "@"); at > 0 {
		if slash := strings.Index(l, "/"); slash < 0 || at < slash {
			return true
		}
	}
	return false
}
