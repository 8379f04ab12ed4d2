package validate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/gobwas/glob"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

func yamlToJSON(data []byte, v any) error { return sigsyaml.Unmarshal(data, v) }

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// maxScanSize bounds the files read by the content rules.
const maxScanSize = 4 << 20

// Check runs every offline rule on t.
func Check(t *Tree) *Report {
	r := &Report{}
	t.checkRegistry(r)
	t.checkLabels(r)
	t.checkTemplateMetadata(r)
	t.checkValuesDirs(r)
	t.checkApplications(r)
	t.checkAppSets(r)
	checkPrivateKeys(t.FS, r)
	r.sort()
	return r
}

func secretObject(e clusterEntry) string { return "Secret/" + e.c.SecretName }

// checkRegistry: duplicate-cluster, cluster-dir-mismatch, unknown-environment,
// committed-credentials (cluster config).
func (t *Tree) checkRegistry(r *Report) {
	type first struct {
		e    clusterEntry
		line int
	}
	bySecret, byServer, byName := map[string]first{}, map[string]first{}, map[string]first{}
	dup := func(m map[string]first, key, what string, e clusterEntry, line int) {
		if key == "" {
			return
		}
		if f, ok := m[key]; ok {
			r.add(RuleDuplicateCluster, e.c.File, line, secretObject(e),
				"%s %q is also registered by %s at %s:%d: the hub keeps only one of them", what, key, secretObject(f.e), f.e.c.File, f.line)
			return
		}
		m[key] = first{e, line}
	}
	for _, e := range t.clusters {
		c := e.c
		nameLine := e.doc.line("stringData", "name")
		if nameLine == e.doc.Line {
			nameLine = e.doc.line("data", "name")
		}
		serverLine := e.doc.line("stringData", "server")
		if serverLine == e.doc.Line {
			serverLine = e.doc.line("data", "server")
		}
		dup(bySecret, c.Namespace+"/"+c.SecretName, "Secret name", e, e.doc.line("metadata", "name"))
		dup(byServer, strings.TrimRight(c.Server, "/"), "server", e, serverLine)
		dup(byName, c.Name, "cluster name", e, nameLine)

		if dir := clusterDir(c.File); dir != "" && dir != c.Name {
			r.add(RuleClusterDirMismatch, c.File, nameLine, secretObject(e),
				"the cluster is named %q but its directory is clusters/%s/: the ApplicationSets read values from clusters/%s/, so clusters/%s/addons/ is ignored (rename the directory or the cluster)", c.Name, dir, c.Name, dir)
		}
		if env, ok := c.Labels[conventions.EnvironmentLabel]; ok {
			if fi, err := fs.Stat(t.FS, path.Join(EnvironmentsDir, env)); err != nil || !fi.IsDir() {
				r.add(RuleUnknownEnvironment, c.File, e.doc.line("metadata", "labels", conventions.EnvironmentLabel), secretObject(e),
					"label environment=%q has no %s/%s/ layer: that environment's values are silently skipped (ignoreMissingValueFiles)", env, EnvironmentsDir, env)
			}
		}
		if keys := credentialKeys(e.config); len(keys) > 0 {
			line := e.doc.line("stringData", "config")
			if line == e.doc.Line {
				line = e.doc.line("data", "config")
			}
			r.add(RuleCommittedCredentials, c.File, line, secretObject(e),
				"the cluster Secret's config holds credentials (%s): register them on the hub (hubctl onboard), never in Git", strings.Join(keys, ", "))
		}
	}
}

// credentialKeys lists the secret fields of an Argo CD cluster config
// (bearerToken, password, tlsClientConfig.keyData) that are set.
func credentialKeys(config string) []string {
	if strings.TrimSpace(config) == "" {
		return nil
	}
	var cfg struct {
		BearerToken     string `json:"bearerToken"`
		Password        string `json:"password"`
		TLSClientConfig struct {
			KeyData string `json:"keyData"`
		} `json:"tlsClientConfig"`
	}
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		// Not JSON: look for the field names, never print the content.
		var keys []string
		for _, k := range []string{"bearerToken", "password", "keyData"} {
			if strings.Contains(config, k) {
				keys = append(keys, k)
			}
		}
		return keys
	}
	var keys []string
	if cfg.BearerToken != "" {
		keys = append(keys, "bearerToken")
	}
	if cfg.Password != "" {
		keys = append(keys, "password")
	}
	if cfg.TLSClientConfig.KeyData != "" {
		keys = append(keys, "tlsClientConfig.keyData")
	}
	return keys
}

// jsonTree returns v as a generic JSON tree.
func jsonTree(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// selectorKeys collects the label keys every label selector of a
// generator tree names (matchLabels keys, matchExpressions keys).
func selectorKeys(v any, out map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			switch k {
			case "matchLabels":
				if m, ok := c.(map[string]any); ok {
					for lk := range m {
						out[lk] = true
					}
				}
			case "matchExpressions":
				if l, ok := c.([]any); ok {
					for _, x := range l {
						if m, ok := x.(map[string]any); ok {
							if key, ok := m["key"].(string); ok {
								out[key] = true
							}
						}
					}
				}
			default:
				selectorKeys(c, out)
			}
		}
	case []any:
		for _, c := range t {
			selectorKeys(c, out)
		}
	}
}

// checkLabels: unused-enable-label.
func (t *Tree) checkLabels(r *Report) {
	selected := map[string]bool{}
	for _, a := range t.appSets {
		selectorKeys(jsonTree(a.as.Spec.Generators), selected)
	}
	for _, e := range t.clusters {
		keys := make([]string, 0, len(e.c.Labels))
		for k := range e.c.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.HasPrefix(k, conventions.EnablePrefix) && !selected[k] {
				r.add(RuleUnusedEnableLabel, e.c.File, e.doc.line("metadata", "labels", k), secretObject(e),
					"label %s is selected by no ApplicationSet: it deploys nothing (known enable_ labels: %s)", k, strings.Join(enableKeys(selected), ", "))
			}
		}
	}
}

func enableKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, conventions.EnablePrefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// checkTemplateMetadata: missing-cluster-metadata.
func (t *Tree) checkTemplateMetadata(r *Report) {
	for _, a := range t.appSets {
		if a.res == nil {
			continue
		}
		refs := templateRefs(a.as)
		if len(refs) == 0 {
			continue
		}
		clusters := map[string]bool{}
		for _, app := range a.res.Apps {
			if c := t.DestinationCluster(app); c != "" {
				clusters[c] = true
			}
		}
		for _, e := range t.clusters {
			if !clusters[e.c.Name] {
				continue
			}
			if c, ok := t.Registry.ByName(e.c.Name); !ok || c != e.c {
				continue
			}
			for _, ref := range refs {
				m, field := e.c.Labels, "labels"
				if ref.annotation {
					m, field = e.c.Annotations, "annotations"
				}
				if _, ok := m[ref.key]; ok {
					continue
				}
				kind := "label"
				if ref.annotation {
					kind = "annotation"
				}
				r.add(RuleMissingClusterMetadata, e.c.File, e.doc.line("metadata", field), secretObject(e),
					"ApplicationSet %s (%s:%d) reads the %s %s, which this cluster lacks: it renders as an empty string", a.as.Name, a.doc.File, a.doc.Line, kind, ref.key)
			}
		}
	}
}

// checkValuesDirs: orphan-values, values-not-yaml.
func (t *Tree) checkValuesDirs(r *Report) {
	deployed := map[string]bool{}
	// read are the clusters/<name>/addons/<chart> directories some
	// Application's value files name.
	read := map[string]bool{}
	for _, a := range t.Apps {
		for _, s := range a.Sources() {
			if c, _ := s["chart"].(string); c != "" {
				deployed[c] = true
			}
			helm, _ := s["helm"].(map[string]any)
			vf, _ := helm["valueFiles"].([]any)
			for _, f := range vf {
				p, _ := f.(string)
				if m := clusterAddonDir.FindStringSubmatch(p); m != nil {
					read[m[1]] = true
				}
				parts := strings.Split(p, "/")
				for i := 0; i+1 < len(parts); i++ {
					if parts[i] == "addons" {
						deployed[parts[i+1]] = true
					}
				}
			}
		}
	}
	// Charts of an ApplicationSet that failed to generate: which clusters
	// they go to is unknown.
	failed := map[string]bool{}
	for _, a := range t.appSets {
		staticCharts(a.as, deployed)
		if a.err != nil {
			staticCharts(a.as, failed)
		}
	}
	var addonDirs []string
	for _, pattern := range []string{EnvironmentsDir + "/*/addons/*", ClustersDir + "/*/addons/*"} {
		m, _ := fs.Glob(t.FS, pattern)
		addonDirs = append(addonDirs, m...)
	}
	for _, dir := range addonDirs {
		fi, err := fs.Stat(t.FS, dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		if chart := path.Base(dir); !deployed[chart] {
			file := valuesFile(t.FS, dir)
			r.add(RuleOrphanValues, file, 0, "", "no ApplicationSet deploys a chart %q: these values are never read%s", chart, suggest(chart, deployed))
		} else if strings.HasPrefix(dir, ClustersDir+"/") && !read[dir] && !failed[chart] {
			cluster := strings.Split(dir, "/")[1]
			if _, ok := t.Registry.ByName(cluster); ok {
				r.add(RuleOrphanValues, valuesFile(t.FS, dir), 0, "", "no Application of cluster %s reads these values: %s is not deployed to it (is its enable_ label missing?)", cluster, chart)
			} else if _, err := fs.Stat(t.FS, conventions.ClusterEntry(cluster)); err != nil {
				// (with a cluster.yaml naming another cluster, cluster-dir-mismatch says it)
				r.add(RuleOrphanValues, valuesFile(t.FS, dir), 0, "", "no cluster named %s is registered: these values are never read", cluster)
			}
		}
	}
	for _, root := range []string{EnvironmentsDir, ClustersDir} {
		_ = fs.WalkDir(t.FS, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // never follow a link, possibly out of the repository
			}
			if !loader.IsYAMLFile(p) || (root == ClustersDir && path.Base(p) == "cluster.yaml" && strings.Count(p, "/") == 2) {
				return nil
			}
			if !strings.Contains("/"+p, "/addons/") {
				return nil
			}
			data, err := readBounded(t.FS, p)
			if err != nil {
				r.add(RuleValuesNotYAML, p, 0, "", "%v", err)
				return nil
			}
			var m map[string]any
			if err := sigsyaml.Unmarshal(data, &m); err != nil {
				r.add(RuleValuesNotYAML, p, errLine(err), "", "not a YAML map, Helm fails every Application that reads it: %v", err)
			}
			return nil
		})
	}
}

var lineInError = regexp.MustCompile(`line (\d+)`)

// clusterAddonDir is the clusters/<name>/addons/<chart> directory a value
// file entry names.
var clusterAddonDir = regexp.MustCompile(`(?:^|/)(` + ClustersDir + `/[^/{}]+/addons/[^/{}]+)/`)

// valuesFile names a values directory by its values.yaml when it has one.
func valuesFile(fsys fs.FS, dir string) string {
	if _, err := fs.Stat(fsys, dir+"/values.yaml"); err == nil {
		return dir + "/values.yaml"
	}
	return dir + "/"
}

func errLine(err error) int {
	if m := lineInError.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// suggest names the deployed chart closest to name, if one is close.
func suggest(name string, deployed map[string]bool) string {
	best, bestD := "", 4
	for c := range deployed {
		if d := editDistance(name, c); d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func readBounded(fsys fs.FS, p string) ([]byte, error) {
	fi, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxScanSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, maxScanSize)
	}
	return fs.ReadFile(fsys, p)
}

// aggregate collects the Applications of one finding.
type aggregate struct {
	rule, file, object, message string
	line                        int
	apps                        []string
}

func (t *Tree) appSetOf(a *generate.Application) *appSetEntry {
	for i := range t.appSets {
		if t.appSets[i].as.Name == a.AppSet {
			return &t.appSets[i]
		}
	}
	return nil
}

// checkApplications: unknown-project, destination-not-permitted,
// source-not-permitted, duplicate-application, invalid-application,
// auto-prune, floating-chart-version.
func (t *Tree) checkApplications(r *Report) {
	aggs := map[string]*aggregate{}
	var order []string
	note := func(key string, a aggregate, app string) {
		g, ok := aggs[key]
		if !ok {
			g = &a
			aggs[key] = g
			order = append(order, key)
		}
		g.apps = append(g.apps, app)
	}
	owner := map[string]*appSetEntry{}
	for i := range t.appSets {
		as := &t.appSets[i]
		if as.err != nil {
			r.add(RuleInvalidApplication, as.doc.File, as.doc.Line, "ApplicationSet/"+as.as.Name, "%v", unwrapGeneration(as.err))
			continue
		}
		for _, e := range as.res.Errors {
			r.add(RuleInvalidApplication, as.doc.File, as.doc.Line, "Application/"+e.App, "%v", e.Err)
		}
		for _, a := range as.res.Apps {
			key := a.Namespace + "/" + a.Name
			if prev, ok := owner[key]; ok {
				r.add(RuleDuplicateApplication, as.doc.File, as.doc.line("spec", "template", "metadata", "name"), "Application/"+a.Name,
					"also generated by ApplicationSet %s (%s:%d): the two ApplicationSets overwrite each other's Application", prev.as.Name, prev.doc.File, prev.doc.Line)
				continue
			}
			owner[key] = as
			t.checkApp(as, a, note)
		}
	}
	for _, k := range order {
		g := aggs[k]
		sort.Strings(g.apps)
		apps := g.apps
		more := ""
		if len(apps) > 5 {
			more = fmt.Sprintf(" and %d more", len(apps)-5)
			apps = apps[:5]
		}
		r.add(g.rule, g.file, g.line, g.object, "%s (Application %s%s)", g.message, strings.Join(apps, ", "), more)
	}
}

func unwrapGeneration(err error) error {
	var ge *generate.GenerationError
	if errors.As(err, &ge) {
		return ge.Err
	}
	return err
}

func (t *Tree) checkApp(as *appSetEntry, a *generate.Application, note func(string, aggregate, string)) {
	app, err := a.Typed()
	if err != nil {
		return
	}
	srcs := app.Spec.Sources
	if app.Spec.Source != nil {
		srcs = append([]v1alpha1.ApplicationSource{*app.Spec.Source}, srcs...)
	}
	for _, s := range srcs {
		if s.Chart == "" || !floating(s.TargetRevision) {
			continue
		}
		line := as.doc.findScalar(s.TargetRevision)
		if line == 0 || s.TargetRevision == "" {
			line = as.doc.findKey("targetRevision")
		}
		note("floating\x00"+as.as.Name+"\x00"+s.Chart+"\x00"+s.TargetRevision, aggregate{rule: RuleFloatingChartVersion, file: as.doc.File, line: line,
			object: "ApplicationSet/" + as.as.Name, message: fmt.Sprintf("chart %s version %q floats: a new upload changes what is deployed without a commit; pin an exact version", s.Chart, s.TargetRevision)}, a.Name)
	}
	if sp := app.Spec.SyncPolicy; sp != nil && sp.Automated != nil && sp.Automated.Prune {
		note("prune\x00"+as.as.Name, aggregate{rule: RuleAutoPrune, file: as.doc.File, line: as.doc.findKey("prune"), object: "ApplicationSet/" + as.as.Name,
			message: "automated sync with prune: true deletes live objects as soon as they leave the render (a rename included)"}, a.Name)
	}

	proj, ok := t.projects[app.Spec.Project]
	if !ok {
		if app.Spec.Project == "default" {
			return // Argo CD creates it, allowing everything
		}
		note("project\x00"+as.as.Name+"\x00"+app.Spec.Project, aggregate{rule: RuleUnknownProject, file: as.doc.File, line: as.doc.line("spec", "template", "spec", "project"),
			object: "ApplicationSet/" + as.as.Name, message: fmt.Sprintf("AppProject %q does not exist under %s/ (known: %s)", app.Spec.Project, BootstrapDir, strings.Join(t.projectNames(), ", "))}, a.Name)
		return
	}
	dest := app.Spec.Destination
	name, server := dest.Name, dest.Server
	if name != "" {
		if c, ok := t.Registry.ByName(name); ok {
			server = c.Server
		}
	} else if c := t.DestinationCluster(a); c != "" {
		name = c
	}
	if !destinationPermitted(proj, name, server, dest.Namespace) {
		d := fmt.Sprintf("cluster %s (%s), namespace %q", name, server, dest.Namespace)
		note("dest\x00"+app.Spec.Project+"\x00"+d, aggregate{rule: RuleDestinationNotPermitted, file: proj.doc.File, line: proj.doc.line("spec", "destinations"),
			object: "AppProject/" + app.Spec.Project, message: fmt.Sprintf("destination %s is not allowed by spec.destinations (ApplicationSet %s)", d, as.as.Name)}, a.Name)
	}
	for _, s := range srcs {
		if s.RepoURL != "" && !sourcePermitted(proj, s.RepoURL) {
			note("src\x00"+app.Spec.Project+"\x00"+s.RepoURL, aggregate{rule: RuleSourceNotPermitted, file: proj.doc.File, line: proj.doc.line("spec", "sourceRepos"),
				object: "AppProject/" + app.Spec.Project, message: fmt.Sprintf("source repository %s is not allowed by spec.sourceRepos (ApplicationSet %s)", s.RepoURL, as.as.Name)}, a.Name)
		}
	}
}

func (t *Tree) projectNames() []string {
	var out []string
	for n := range t.projects {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// floating reports whether a chart version is not one exact version: empty,
// "*", or a range (Argo CD resolves anything that is not a semantic
// version as a constraint against the repository's index).
func floating(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return true
	}
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v")); err == nil {
		return false
	}
	return true
}

// globMatch is Argo CD's AppProject matching (pkg/apis/application/
// v1alpha1/app_project_types.go globMatch, util/glob Match): "*" matches
// everything, "!pattern" (where negation is allowed) matches what pattern
// does not, anything else is a gobwas/glob pattern compiled with the
// separators given.
func globMatch(pattern, val string, allowNegation bool, separators ...rune) bool {
	if allowNegation && strings.HasPrefix(pattern, "!") {
		return !gobMatch(pattern[1:], val, separators...)
	}
	if pattern == "*" {
		return true
	}
	return gobMatch(pattern, val, separators...)
}

func gobMatch(pattern, val string, separators ...rune) bool {
	g, err := glob.Compile(pattern, separators...)
	if err != nil {
		return false
	}
	return g.Match(val)
}

// sourcePermitted is AppProject.IsSourcePermitted: repository URLs are
// normalized, matched with '/' as the separator; a deny entry ("!url") that
// does not match refuses the source.
func sourcePermitted(p project, repoURL string) bool {
	src := source.NormalizeRepoURL(repoURL)
	any := false
	for _, pat := range p.spec.SourceRepos {
		norm := source.NormalizeRepoURL(pat)
		deny := strings.HasPrefix(pat, "!")
		if deny {
			norm = "!" + source.NormalizeRepoURL(strings.TrimPrefix(pat, "!"))
		}
		if globMatch(norm, src, true, '/') {
			any = true
		} else if deny {
			return false
		}
	}
	return any
}

// destinationPermitted is AppProject.isDestinationMatched: an entry matches
// by server or by name, and by namespace; a deny entry that does not match
// refuses the destination.
func destinationPermitted(p project, name, server, namespace string) bool {
	any, noDeny := false, true
	for _, d := range p.spec.Destinations {
		nameOK := name != "" && globMatch(d.Name, name, true)
		serverOK := server != "" && globMatch(d.Server, server, true)
		nsOK := globMatch(d.Namespace, namespace, true)
		if (nameOK || serverOK) && nsOK {
			any = true
		} else if (!nameOK && strings.HasPrefix(d.Name, "!")) || (!serverOK && strings.HasPrefix(d.Server, "!")) || (!nsOK && strings.HasPrefix(d.Namespace, "!")) {
			noDeny = false
		}
	}
	return any && noDeny
}

// checkAppSets: deletes-resources.
func (t *Tree) checkAppSets(r *Report) {
	for _, a := range t.appSets {
		if sp := a.as.Spec.SyncPolicy; sp == nil || !sp.PreserveResourcesOnDeletion {
			r.add(RuleDeletesResources, a.doc.File, a.doc.line("spec", "syncPolicy"), "ApplicationSet/"+a.as.Name,
				"no spec.syncPolicy.preserveResourcesOnDeletion: true: deleting this ApplicationSet, or a cluster leaving its selection, deletes everything it deployed")
		}
	}
}

// checkPrivateKeys: committed-credentials (PEM private keys in any file of
// the repository; hidden directories such as .git are skipped).
func checkPrivateKeys(fsys fs.FS, r *Report) {
	begin := []byte("-----BEGIN ")
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := readBounded(fsys, p)
		if err != nil || !bytes.Contains(data, begin) {
			return nil
		}
		// Keys are often indented in YAML block scalars: PEM wants its
		// lines at the start.
		lines := bytes.Split(data, []byte("\n"))
		for i := range lines {
			lines[i] = bytes.TrimLeft(lines[i], " \t")
		}
		flat := bytes.Join(lines, []byte("\n"))
		off := 0
		for {
			i := bytes.Index(flat[off:], begin)
			if i < 0 {
				break
			}
			at := off + i
			block, _ := pem.Decode(flat[at:])
			if block != nil && strings.HasSuffix(block.Type, "PRIVATE KEY") && len(block.Bytes) > 0 {
				line := bytes.Count(flat[:at], []byte("\n")) + 1
				r.add(RuleCommittedCredentials, p, line, "", "a PEM %s is committed: remove it from the repository (and its history) and rotate it", strings.ToLower(block.Type))
			}
			off = at + len(begin)
		}
		return nil
	})
}
