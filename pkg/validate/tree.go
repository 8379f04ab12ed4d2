package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Repository layout of the GitOps tree.
const (
	BootstrapDir    = loader.BootstrapDir
	ClusterRegistry = loader.ClusterRegistry
	EnvironmentsDir = "environments"
	ClustersDir     = conventions.ClustersDir
)

// Tree is the loaded GitOps tree: what the rules look at, and what a render
// needs afterwards.
type Tree struct {
	FS       fs.FS
	Registry *registry.Registry
	// Apps are the valid generated Applications, one per name (the first
	// ApplicationSet wins a duplicate), sorted by name.
	Apps []*generate.Application

	clusters []clusterEntry
	appSets  []appSetEntry
	projects map[string]project
}

type clusterEntry struct {
	c   *registry.Cluster
	doc doc
	// config is the cluster Secret's stringData.config or decoded
	// data.config, "" when there is none.
	config string
}

type appSetEntry struct {
	as  *v1alpha1.ApplicationSet
	doc doc
	res *generate.Result // nil when generation failed
	err error            // the generation error
}

type project struct {
	doc  doc
	spec struct {
		SourceRepos  []string `json:"sourceRepos"`
		Destinations []struct {
			Server    string `json:"server"`
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"destinations"`
	}
}

// Load reads the registry (clusters/*/cluster.yaml), the ApplicationSets
// and AppProjects (under bootstrap/) and generates the Applications. An
// input that cannot be read at all (malformed YAML, an unknown field) is an
// error; everything else is left to the rules. Duplicate registry entries
// are kept out of the registry (the first one wins) and reported by Check.
func Load(ctx context.Context, repo fs.FS) (*Tree, error) {
	t := &Tree{FS: repo, projects: map[string]project{}}
	paths, err := fs.Glob(repo, ClusterRegistry)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range paths {
		data, err := fs.ReadFile(repo, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := registry.Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs := loader.SplitDocuments(p, data)
		for i, c := range cs {
			e := clusterEntry{c: c, doc: parseDoc(docs[i])}
			e.config = secretField(e.doc, "config")
			t.clusters = append(t.clusters, e)
		}
	}

	setPaths, err := loader.WalkYAML(repo, BootstrapDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("finding ApplicationSets under %s/: %w", BootstrapDir, err)
	}
	objs, err := loader.LoadObjects(loader.RepoFiles(repo, setPaths...), false)
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	for name, d := range objs.Projects {
		p := project{doc: parseDoc(d)}
		var obj struct {
			Spec json.RawMessage `json:"spec"`
		}
		if err := yamlToJSON(d.Data, &obj); err == nil && len(obj.Spec) > 0 {
			_ = json.Unmarshal(obj.Spec, &p.spec)
		}
		t.projects[name] = p
	}

	seen := map[string]bool{}
	var unique []*registry.Cluster
	for _, e := range t.clusters {
		if seen[e.c.Name] {
			continue
		}
		seen[e.c.Name] = true
		unique = append(unique, e.c)
	}
	if t.Registry, err = registry.New(unique); err != nil {
		return nil, err
	}

	// Projects are checked by the rules (with the file to edit), not by
	// the engine.
	eng := &generate.Engine{Clusters: t.Registry, Repo: repo, APIServerChecks: true}
	owner := map[string]bool{}
	for _, as := range objs.AppSets {
		e := appSetEntry{as: as.ApplicationSet, doc: parseDoc(as.Doc)}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.res, e.err = eng.Generate(ctx, as.ApplicationSet, generate.Source{File: as.Doc.File, Line: as.Doc.Line})
		if e.err != nil && !errors.As(e.err, new(*generate.GenerationError)) {
			return nil, e.err
		}
		if e.res != nil {
			for _, a := range e.res.Apps {
				if key := a.Namespace + "/" + a.Name; !owner[key] {
					owner[key] = true
					t.Apps = append(t.Apps, a)
				}
			}
		}
		t.appSets = append(t.appSets, e)
	}
	sort.SliceStable(t.Apps, func(i, j int) bool { return t.Apps[i].Name < t.Apps[j].Name })
	return t, nil
}

// secretField reads stringData.<k>, else data.<k> base64-decoded, of a
// Secret document.
func secretField(d doc, k string) string {
	var s struct {
		Data       map[string]string `json:"data"`
		StringData map[string]string `json:"stringData"`
	}
	if yamlToJSON(d.Data, &s) != nil {
		return ""
	}
	if v, ok := s.StringData[k]; ok {
		return v
	}
	if v, ok := s.Data[k]; ok {
		if b, err := decodeBase64(v); err == nil {
			return string(b)
		}
	}
	return ""
}

// DestinationCluster names the registered cluster an Application deploys
// to, "" when it is not a registered cluster.
func (t *Tree) DestinationCluster(a *generate.Application) string {
	spec, _ := a.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	if n, _ := dest["name"].(string); n != "" {
		if _, ok := t.Registry.ByName(n); ok {
			return n
		}
		return ""
	}
	s, _ := dest["server"].(string)
	for _, c := range t.Registry.Clusters {
		if strings.TrimRight(c.Server, "/") == strings.TrimRight(s, "/") {
			return c.Name
		}
	}
	return ""
}

// clusterDir is <dir> of clusters/<dir>/cluster.yaml.
func clusterDir(file string) string {
	dir := path.Dir(file)
	if path.Dir(dir) != ClustersDir {
		return ""
	}
	return path.Base(dir)
}
