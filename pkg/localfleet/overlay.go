package localfleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
)

// maxProjectFile bounds the size of a file read to patch its AppProjects.
const maxProjectFile = 1 << 20

// Overlay is what the local fleet lays over the repository in the commit its
// git daemon serves, so that the fleet's fixtures (its clusters with their
// values, its loopback Git and chart URLs) never sit in the production tree:
// the repository's HEAD stays untouched, and the served branch is one commit
// on top of it whose tree is HEAD's with the overlay applied. The commit is
// deterministic (author, committer and dates from HEAD), so publishing the
// same HEAD twice serves the same commit.
type Overlay struct {
	// Dir is a directory of the repository (read at HEAD: only committed
	// work) whose files are laid over the tree's root: Dir/clusters/x/a.yaml
	// becomes clusters/x/a.yaml, replacing a file of HEAD at that path.
	Dir string
	// SourceRepos are added to spec.sourceRepos of every AppProject found
	// in the YAML files under ProjectsDir (unless listed, or "*" is).
	SourceRepos []string
	// ProjectsDir is where AppProjects are patched; "" means "bootstrap".
	ProjectsDir string
}

// treeEntry is one line of git ls-tree -r -l -z.
type treeEntry struct {
	mode, typ, sha, path string
	size                 int64
}

func lsTree(ctx context.Context, git, bare, rev, dir string) ([]treeEntry, error) {
	out, err := runGitIn(ctx, git, bare, nil, nil, "ls-tree", "-r", "-l", "-z", rev, "--", dir)
	if err != nil {
		return nil, err
	}
	var entries []treeEntry
	for _, rec := range strings.Split(out, "\x00") {
		if rec == "" {
			continue
		}
		meta, p, ok := strings.Cut(rec, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 4 {
			return nil, fmt.Errorf("git ls-tree: unexpected line %q", rec)
		}
		size, _ := strconv.ParseInt(fields[3], 10, 64) // "-" for trees and submodules
		entries = append(entries, treeEntry{mode: fields[0], typ: fields[1], sha: fields[2], path: p, size: size})
	}
	return entries, nil
}

// commit builds the overlay commit on top of head in the bare repository
// and returns its hash.
func (ov *Overlay) commit(ctx context.Context, git, bare, head string) (string, error) {
	tmp, err := os.MkdirTemp(bare, "overlay-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + tmp + "/index"}
	if _, err := runGitIn(ctx, git, bare, env, nil, "read-tree", head); err != nil {
		return "", err
	}
	var index bytes.Buffer // git update-index -z --index-info: "mode sha\tpath\0"
	if ov.Dir != "" {
		dir := strings.Trim(path.Clean(ov.Dir), "/")
		entries, err := lsTree(ctx, git, bare, head, dir)
		if err != nil {
			return "", err
		}
		n := 0
		for _, e := range entries {
			if e.typ != "blob" {
				continue
			}
			rel := strings.TrimPrefix(e.path, dir+"/")
			fmt.Fprintf(&index, "%s %s\t%s\x00", e.mode, e.sha, rel)
			n++
		}
		if n == 0 {
			return "", fmt.Errorf("overlay %s: no file there at HEAD %s (committed?)", dir, head)
		}
	}
	if len(ov.SourceRepos) > 0 {
		projects := ov.ProjectsDir
		if projects == "" {
			projects = conventions.BootstrapDir
		}
		entries, err := lsTree(ctx, git, bare, head, projects)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if e.typ != "blob" || e.mode == "120000" || (!strings.HasSuffix(e.path, ".yaml") && !strings.HasSuffix(e.path, ".yml")) {
				continue
			}
			if e.size > maxProjectFile {
				return "", fmt.Errorf("overlay: %s: %d bytes, more than %d", e.path, e.size, maxProjectFile)
			}
			data, err := runGitRaw(ctx, git, bare, nil, nil, "cat-file", "blob", e.sha)
			if err != nil {
				return "", err
			}
			patched, changed, err := addSourceRepos(data, ov.SourceRepos)
			if err != nil {
				return "", fmt.Errorf("overlay: %s: %w", e.path, err)
			}
			if !changed {
				continue
			}
			sha, err := runGitIn(ctx, git, bare, nil, bytes.NewReader(patched), "hash-object", "-w", "--stdin")
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&index, "%s %s\t%s\x00", e.mode, sha, e.path)
		}
	}
	if index.Len() > 0 {
		if _, err := runGitIn(ctx, git, bare, env, &index, "update-index", "-z", "--index-info"); err != nil {
			return "", err
		}
	}
	tree, err := runGitIn(ctx, git, bare, env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	date, err := runGit(ctx, git, bare, "log", "-1", "--format=@%ct +0000", head)
	if err != nil {
		return "", err
	}
	who := []string{
		"GIT_AUTHOR_NAME=hubctl up", "GIT_AUTHOR_EMAIL=hubctl@localhost", "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=hubctl up", "GIT_COMMITTER_EMAIL=hubctl@localhost", "GIT_COMMITTER_DATE=" + date,
	}
	msg := "local fleet overlay (hubctl up): " + ov.Dir + " over the tree; AppProjects allow " + strings.Join(ov.SourceRepos, ", ")
	return runGitIn(ctx, git, bare, who, nil, "commit-tree", tree, "-p", head, "-m", msg)
}

// addSourceRepos adds repos to spec.sourceRepos of every AppProject of a
// YAML stream and reports whether one changed. The other documents are kept
// as they were; a changed one is re-serialised (comments are lost: the
// result is only served to the local fleet).
func addSourceRepos(data []byte, repos []string) ([]byte, bool, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	changed := false
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, false, err
		}
		if kind, _ := obj["kind"].(string); kind != "AppProject" || !strings.HasPrefix(fmt.Sprint(obj["apiVersion"]), "argoproj.io/") {
			docs = append(docs, doc)
			continue
		}
		spec, _ := obj["spec"].(map[string]any)
		if spec == nil {
			spec = map[string]any{}
			obj["spec"] = spec
		}
		list, _ := spec["sourceRepos"].([]any)
		var have []string
		for _, v := range list {
			have = append(have, fmt.Sprint(v))
		}
		added := false
		for _, u := range repos {
			if !slices.Contains(have, u) && !slices.Contains(have, "*") {
				list = append(list, u)
				have = append(have, u)
				added = true
			}
		}
		if !added {
			docs = append(docs, doc)
			continue
		}
		spec["sourceRepos"] = list
		out, err := yaml.Marshal(obj)
		if err != nil {
			return nil, false, err
		}
		docs = append(docs, out)
		changed = true
	}
	if !changed {
		return data, false, nil
	}
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(bytes.TrimLeft(d, "\n"))
		if !bytes.HasSuffix(d, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), true, nil
}
