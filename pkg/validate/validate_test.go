package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// copyTree copies testdata/tree, the small GitOps tree every case edits.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS("testdata/tree")); err != nil {
		t.Fatal(err)
	}
	return dst
}

func replace(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, file, content string) {
	t.Helper()
	p := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, dir string) *Report {
	t.Helper()
	tree, err := Load(context.Background(), os.DirFS(dir))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return Check(tree)
}

func TestFixtureTreeIsClean(t *testing.T) {
	r := check(t, copyTree(t))
	if len(r.Findings) != 0 {
		t.Fatalf("the unedited fixture tree has findings: %+v", r.Findings)
	}
}

// TestRules edits the fixture tree the way a user would, one edit per case,
// and expects exactly the findings of that mistake.
func TestRules(t *testing.T) {
	const prodB = "clusters/prod-b/cluster.yaml"
	const devA = "clusters/dev-a/cluster.yaml"
	const podinfo = "bootstrap/addons/appset-podinfo.yaml"
	const nginx = "bootstrap/addons/appset-nginx.yaml"
	const apps = "bootstrap/projects/apps.yaml"
	type want struct {
		rule, file string
		line       int
		msg        string // substring
	}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want []want
	}{
		{"typo in an enable label", func(t *testing.T, d string) {
			replace(t, d, prodB, `enable_nginx: "true"`, `enable_ngnix: "true"`)
		}, []want{{RuleUnusedEnableLabel, prodB, 10, "enable_ngnix is selected by no ApplicationSet"}}},
		{"environment without a layer", func(t *testing.T, d string) {
			replace(t, d, devA, "environment: dev", "environment: develop")
		}, []want{{RuleUnknownEnvironment, devA, 8, `environment="develop" has no environments/develop/`}}},
		{"cluster renamed but not its directory", func(t *testing.T, d string) {
			replace(t, d, devA, "name: dev-a\n", "name: dev-a1\n")
		}, []want{{RuleClusterDirMismatch, devA, 14, `named "dev-a1" but its directory is clusters/dev-a/`}}},
		{"copied registry entry: same Secret name, server and cluster name", func(t *testing.T, d string) {
			b, _ := os.ReadFile(filepath.Join(d, devA))
			write(t, d, "clusters/dev-a2/cluster.yaml", string(b))
		}, []want{
			{RuleDuplicateCluster, "clusters/dev-a2/cluster.yaml", 4, `Secret name "argocd/cluster-dev-a" is also registered by Secret/cluster-dev-a at clusters/dev-a/cluster.yaml:4`},
			{RuleClusterDirMismatch, "clusters/dev-a2/cluster.yaml", 14, `directory is clusters/dev-a2/`},
			{RuleDuplicateCluster, "clusters/dev-a2/cluster.yaml", 14, `cluster name "dev-a" is also registered by Secret/cluster-dev-a at clusters/dev-a/cluster.yaml:14`},
			{RuleDuplicateCluster, "clusters/dev-a2/cluster.yaml", 15, `server "https://dev-a.example.com" is also registered`},
		}},
		{"annotation the template reads is missing", func(t *testing.T, d string) {
			replace(t, d, prodB, "    addons_repo_url: https://git.example.com/org/gitops.git\n", "    owner: team-b\n")
		}, []want{{RuleMissingClusterMetadata, prodB, 11, "ApplicationSet addons-podinfo (bootstrap/addons/appset-podinfo.yaml:1) reads the annotation addons_repo_url"}}},
		{"label a fasttemplate reads is missing", func(t *testing.T, d string) {
			replace(t, d, prodB, "    environment: prod\n", "")
		}, []want{
			{RuleMissingClusterMetadata, prodB, 6, "ApplicationSet addons-nginx (bootstrap/addons/appset-nginx.yaml:1) reads the label environment"},
			{RuleMissingClusterMetadata, prodB, 6, "ApplicationSet addons-podinfo (bootstrap/addons/appset-podinfo.yaml:1) reads the label environment"},
		}},
		{"values directory of a misspelled chart", func(t *testing.T, d string) {
			write(t, d, "environments/default/addons/podinf/values.yaml", "replicaCount: 1\n")
		}, []want{{RuleOrphanValues, "environments/default/addons/podinf/values.yaml", 0, `no ApplicationSet deploys a chart "podinf": these values are never read (did you mean "podinfo"?)`}}},
		{"cluster values for an addon the cluster does not get", func(t *testing.T, d string) {
			write(t, d, "clusters/dev-a/addons/nginx/values.yaml", "replicaCount: 2\n")
		}, []want{{RuleOrphanValues, "clusters/dev-a/addons/nginx/values.yaml", 0, "no Application of cluster dev-a reads these values: nginx is not deployed to it (is its enable_ label missing?)"}}},
		{"values of an unregistered cluster", func(t *testing.T, d string) {
			write(t, d, "clusters/dev-c/addons/podinfo/values.yaml", "replicaCount: 2\n")
		}, []want{{RuleOrphanValues, "clusters/dev-c/addons/podinfo/values.yaml", 0, "no cluster named dev-c is registered"}}},
		{"values file that is not YAML", func(t *testing.T, d string) {
			write(t, d, "environments/dev/addons/podinfo/values.yaml", "replicaCount: 2\nimage:\n\ttag: v1\n")
		}, []want{{RuleValuesNotYAML, "environments/dev/addons/podinfo/values.yaml", 3, "not a YAML map"}}},
		{"values file that is a list", func(t *testing.T, d string) {
			write(t, d, "clusters/dev-a/addons/podinfo/values.yaml", "- a\n- b\n")
		}, []want{{RuleValuesNotYAML, "clusters/dev-a/addons/podinfo/values.yaml", 0, "not a YAML map"}}},
		{"misspelled project", func(t *testing.T, d string) {
			replace(t, d, nginx, "project: apps", "project: app")
		}, []want{{RuleUnknownProject, nginx, 20, `AppProject "app" does not exist under bootstrap/ (known: apps) (Application nginx-prod-b)`}}},
		{"destination namespace the project refuses", func(t *testing.T, d string) {
			replace(t, d, podinfo, "namespace: podinfo", "namespace: web")
		}, []want{
			{RuleDestinationNotPermitted, apps, 10, `destination cluster dev-a (https://dev-a.example.com), namespace "web" is not allowed by spec.destinations (ApplicationSet addons-podinfo) (Application podinfo-dev-a)`},
			{RuleDestinationNotPermitted, apps, 10, `destination cluster prod-b (https://prod-b.example.com), namespace "web" is not allowed`},
		}},
		{"deny pattern in the project", func(t *testing.T, d string) {
			replace(t, d, apps, "    - name: '!in-cluster'", "    - name: '!prod-*'")
		}, []want{
			{RuleDestinationNotPermitted, apps, 10, `destination cluster prod-b (https://prod-b.example.com), namespace "nginx-prod"`},
			{RuleDestinationNotPermitted, apps, 10, `destination cluster prod-b (https://prod-b.example.com), namespace "podinfo"`},
		}},
		{"chart repository the project does not list", func(t *testing.T, d string) {
			replace(t, d, nginx, "repoURL: https://charts.example.com", "repoURL: https://charts.example.org")
		}, []want{{RuleSourceNotPermitted, apps, 7, "source repository https://charts.example.org is not allowed by spec.sourceRepos (ApplicationSet addons-nginx) (Application nginx-prod-b)"}}},
		{"source glob does not cross '/'", func(t *testing.T, d string) {
			replace(t, d, devA, "addons_repo_url: https://git.example.com/org/gitops.git", "addons_repo_url: https://git.example.com/org/team/gitops.git")
		}, []want{{RuleSourceNotPermitted, apps, 7, "source repository https://git.example.com/org/team/gitops.git is not allowed"}}},
		{"two ApplicationSets generate one name", func(t *testing.T, d string) {
			replace(t, d, nginx, "name: 'nginx-{{name}}'", "name: 'podinfo-{{name}}'")
		}, []want{{RuleDuplicateApplication, podinfo, 20, "also generated by ApplicationSet addons-nginx (bootstrap/addons/appset-nginx.yaml:1)"}}},
		{"ApplicationSet without preserveResourcesOnDeletion", func(t *testing.T, d string) {
			replace(t, d, nginx, "  syncPolicy:\n    preserveResourcesOnDeletion: true\n", "")
		}, []want{{RuleDeletesResources, nginx, 6, "no spec.syncPolicy.preserveResourcesOnDeletion"}}},
		{"automated prune", func(t *testing.T, d string) {
			replace(t, d, podinfo, "prune: false", "prune: true")
		}, []want{{RuleAutoPrune, podinfo, 41, "prune: true deletes live objects"}}},
		{"chart version range", func(t *testing.T, d string) {
			replace(t, d, nginx, "targetRevision: 1.2.3", "targetRevision: 1.2.*")
		}, []want{{RuleFloatingChartVersion, nginx, 24, `chart nginx version "1.2.*" floats`}}},
		{"chart version empty", func(t *testing.T, d string) {
			replace(t, d, nginx, "        targetRevision: 1.2.3\n", "")
		}, []want{{RuleFloatingChartVersion, nginx, 0, `chart nginx version "" floats`}}},
		{"bearer token in a cluster Secret", func(t *testing.T, d string) {
			replace(t, d, devA, "  server: https://dev-a.example.com\n", "  server: https://dev-a.example.com\n  config: |\n    {\"bearerToken\": \"s3cr3t-t0ken\", \"tlsClientConfig\": {\"insecure\": false}}\n")
		}, []want{{RuleCommittedCredentials, devA, 16, "config holds credentials (bearerToken)"}}},
		{"private key in a values file", func(t *testing.T, d string) {
			write(t, d, "clusters/dev-a/addons/podinfo/values.yaml", "tls:\n  key: |\n    "+testKey+"\n")
		}, []want{{RuleCommittedCredentials, "clusters/dev-a/addons/podinfo/values.yaml", 3, "a PEM rsa private key is committed"}}},
		{"template error", func(t *testing.T, d string) {
			replace(t, d, podinfo, "name: 'podinfo-{{ .name }}'", "name: 'podinfo-{{ .nam }}'")
		}, []want{{RuleInvalidApplication, podinfo, 1, "nam"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyTree(t)
			tc.edit(t, dir)
			r := check(t, dir)
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Rule+" "+f.File+":"+itoa(f.Line)+" "+f.Message)
			}
			if len(r.Findings) != len(tc.want) {
				t.Fatalf("%d findings, want %d:\n%s", len(r.Findings), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				f := r.Findings[i]
				if f.Rule != w.rule || f.File != w.file || (w.line != 0 && f.Line != w.line) || !strings.Contains(f.Message, w.msg) {
					t.Errorf("finding %d:\n got  %s\n want %s %s:%d ...%s...", i, got[i], w.rule, w.file, w.line, w.msg)
				}
				rl, _ := RuleByID(f.Rule)
				if f.Severity != rl.Severity {
					t.Errorf("finding %d: severity %s, rule says %s", i, f.Severity, rl.Severity)
				}
			}
			if strings.Contains(strings.Join(got, "\n"), "s3cr3t") {
				t.Error("a finding prints the secret")
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// testKey is a throwaway RSA key in PEM form, built at run time so that the
// repository holds no key material.
var testKey = func() string {
	body := strings.Repeat("QUJD", 40)
	return "-----BEGIN RSA PRIVATE KEY-----\n    " + body + "\n    -----END RSA PRIVATE KEY-----"
}()

func TestMalformedInputCannotRun(t *testing.T) {
	dir := copyTree(t)
	write(t, dir, "clusters/dev-a/cluster.yaml", "apiVersion: v1\nkind: Secret\nmetadata: [\n")
	_, err := Load(context.Background(), os.DirFS(dir))
	if err == nil || !strings.Contains(err.Error(), "clusters/dev-a/cluster.yaml:1") {
		t.Fatalf("want an error naming clusters/dev-a/cluster.yaml:1, got %v", err)
	}
}

// TestOutputGolden writes one edited tree with several findings as text,
// JSON and SARIF (go test ./pkg/validate -update rewrites the files).
func TestOutputGolden(t *testing.T) {
	dir := copyTree(t)
	replace(t, dir, "clusters/prod-b/cluster.yaml", `enable_nginx: "true"`, `enable_ngnix: "true"`)
	replace(t, dir, "bootstrap/addons/appset-podinfo.yaml", "prune: false", "prune: true")
	write(t, dir, "environments/default/addons/podinf/values.yaml", "replicaCount: 1\n")
	r := check(t, dir)
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"findings.txt", func(b *bytes.Buffer) error { return WriteText(b, r) }},
		{"findings.json", func(b *bytes.Buffer) error { return WriteJSON(b, r) }},
		{"findings.sarif", func(b *bytes.Buffer) error { return WriteSARIF(b, r, "test") }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name, b.Bytes())
	}
	// The JSON shape tools rely on.
	var b bytes.Buffer
	_ = WriteJSON(&b, r)
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		for _, k := range []string{"rule", "severity", "file", "line", "object", "message"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding without %q: %v", k, f)
			}
		}
	}
	// An empty report is {"findings": []}, not null.
	b.Reset()
	empty := &Report{}
	empty.sort()
	_ = WriteJSON(&b, empty)
	if strings.TrimSpace(b.String()) != "{\n  \"findings\": []\n}" {
		t.Errorf("empty report: %s", b.String())
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./pkg/validate -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./pkg/validate -update rewrites it):\n%s", p, got)
	}
}

// A link is never followed, possibly out of the repository.
func TestLinksAreNotFollowed(t *testing.T) {
	dir := copyTree(t)
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	write(t, filepath.Dir(outside), "secret.yaml", "\tnot: yaml\n")
	if err := os.Symlink(outside, filepath.Join(dir, "environments/dev/addons/podinfo/extra.yaml")); err != nil {
		t.Skip(err)
	}
	if r := check(t, dir); len(r.Findings) != 0 {
		t.Errorf("findings for a link's target: %+v", r.Findings)
	}
}
