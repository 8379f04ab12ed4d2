package cmd

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Credentials of cluster Secrets never reach stdout or stderr, whatever is
// wrong with the file given to --clusters: each case puts canaries where a
// token lives (stringData/data config, the last-applied-configuration
// annotation) and breaks the file in a different way. The messages still
// name the file and, where it applies, the line, the Secret and the key.
func TestClustersFileNeverLeaksCredentials(t *testing.T) {
	const (
		tok = "tok3nCANARYs3cr3tvalue" // a bearer token
		num = "987654321098765"        // a token YAML reads as an int
		hex = "0x9f8e7d6c5b4a39"       // ... as a hex int
		flt = "6.0221408e23"           // ... as a float
	)
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"bearerToken":"` + tok + `"}`))
	// Fragments that must never appear: the canaries and the 7-character
	// prefixes go-yaml quotes ("`tok3nCA...`").
	forbidden := []string{tok, tok[:7], num, num[:7], hex, hex[2:9], flt, flt[:7], b64, b64[:7]}

	head := func(meta string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-x\n  namespace: argocd\n  labels:\n    argocd.argoproj.io/secret-type: cluster\n" + meta
	}
	lastApplied := `  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"Secret","stringData":{"config":"{\"bearerToken\":\"` + tok + `\"}","name":"x"}}
`
	sd := func(body string) string {
		return head("") + "stringData:\n  name: x\n  server: https://x.example.com\n" + body
	}
	cases := map[string]string{
		"numeric config":                    sd("  config: " + num + "\n"),
		"hex config":                        sd("  config: " + hex + "\n"),
		"float config":                      sd("  config: " + flt + "\n"),
		"config as a list":                  sd("  config: [" + tok + "]\n"),
		"config as a mapping":               sd("  config: {bearerToken: " + tok + "}\n"),
		"config with an int tag":            sd("  config: !!int " + tok + "\n"),
		"config with a timestamp tag":       sd("  config: !!timestamp " + tok + "\n"),
		"config with a binary tag":          sd("  config: !!binary " + tok + "!\n"),
		"config with a local tag":           sd("  config: !" + tok + " {a: 1}\n"),
		"config alias to an unknown anchor": sd("  config: *" + tok + "\n"),
		"config anchored and duplicated":    sd("  config: &" + tok + " x\n  config: *" + tok + "\n"),
		"config twice":                      sd("  config: '{\"bearerToken\":\"" + tok + "\"}'\n  config: '{\"bearerToken\":\"" + tok + "\"}'\n"),
		"config with a bad escape":          sd("  config: \"" + tok + "\\q\"\n"),
		"config unterminated":               sd("  config: '" + tok + "\n"),
		"config with a colon":               sd("  config: " + tok + ": x\n"),
		"config tab-indented":               head("") + "stringData:\n\tconfig: " + tok + "\n",
		"stringData is a scalar":            head("") + "stringData: " + tok + "\n",
		"data is a scalar":                  head("") + "data: " + b64 + "\n",
		"numeric data config":               head("") + "data:\n  name: eA==\n  config: " + num + "\n",
		"data config with a bad name":       head("") + "data:\n  name: '!!'\n  config: " + b64 + "\n",
		"data config and unknown field":     head("") + "data:\n  config: " + b64 + "\nspec: {}\n",
		"numeric config and bool label":     strings.Replace(sd("  config: "+num+"\n"), "cluster\n", "cluster\n    enable_x: true\n", 1),
		"immutable is the token":            sd("  config: "+num+"\n") + "immutable: " + tok + "\n",
		"stringData twice":                  sd("  config: "+num+"\n") + "stringData:\n  config: " + tok + "\n",
		"last-applied on a ConfigMap":       strings.Replace(head(lastApplied), "kind: Secret", "kind: ConfigMap", 1),
		"last-applied and a numeric config": sd("  config: "+num+"\n") + "metadata2: x\n" + strings.TrimPrefix(head(lastApplied), head("")),
		"last-applied as a mapping":         head("  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: {stringData: {config: "+tok+"}}\n") + "stringData: {name: x, config: " + num + "}\n",
		"last-applied as a number":          head("  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: "+num+"\n    enable: true\n") + "stringData: {name: x}\n",
		"last-applied, repository Secret":   strings.Replace(head(lastApplied), "secret-type: cluster", "secret-type: repository", 1) + "stringData: {config: " + tok + "}\n",
		"kubectl List":                      "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(sd("  config: "+num+"\n"), "\n", "\n  ") + "\n",
	}
	dir := t.TempDir()
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			if err := os.WriteFile(f, []byte("# exported\n"+data), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, o := range []string{"yaml", "table"} {
				out, errOut, code := run(t, "generate", "--repo", repoRoot, "--clusters", f, "-o", o)
				for _, s := range forbidden {
					if strings.Contains(out, s) || strings.Contains(errOut, s) {
						t.Fatalf("-o %s: %q leaked (exit %d):\nstdout:\n%s\nstderr:\n%s", o, s, code, out, errOut)
					}
				}
				if testing.Verbose() && o == "yaml" {
					t.Logf("exit %d: %s", code, errOut)
				}
				if code == ExitError && !strings.Contains(errOut, f) {
					t.Errorf("-o %s: the error does not name the file:\n%s", o, errOut)
				}
				// A Secret that parses but does not decode is named.
				if strings.Contains(errOut, "unmarshal errors") && strings.HasPrefix(data, "apiVersion: v1\nkind: Secret") && !strings.Contains(errOut, `Secret "cluster-x"`) {
					t.Errorf("-o %s: the error does not name the Secret:\n%s", o, errOut)
				}
			}
		})
	}
}

// kubectl's last-applied-configuration annotation (the whole Secret, token
// included) is dropped when the registry is read, so a template that prints
// every annotation cannot copy the token into an Application.
func TestClustersLastAppliedConfigurationIsDropped(t *testing.T) {
	const tok = "tok3nCANARYlastapplied"
	dir := t.TempDir()
	clusters := filepath.Join(dir, "clusters.yaml")
	os.WriteFile(clusters, []byte(`apiVersion: v1
kind: Secret
metadata:
  name: cluster-x
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: cluster, environment: prod}
  annotations:
    team: platform
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"Secret","stringData":{"config":"{\"bearerToken\":\"`+tok+`\"}"}}
stringData:
  name: x
  server: https://x.example.com
  config: '{"bearerToken":"`+tok+`"}'
`), 0o644)
	appset := filepath.Join(dir, "appset.yaml")
	os.WriteFile(appset, []byte(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: dump, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - clusters: {}
  template:
    metadata:
      name: 'dump-{{ .name }}'
      annotations: {dump: '{{ toJson . }}'}
    spec:
      project: default
      source: {repoURL: 'https://example.com/r.git', path: x}
      destination: {server: '{{ .server }}', namespace: x}
`), 0o644)
	out, errOut, code := run(t, "generate", "--repo", repoRoot, "--clusters", clusters, "--appset", appset)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, tok) || strings.Contains(out, "last-applied") {
		t.Errorf("the token or the annotation reached the output:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out, `team`) || !strings.Contains(out, "dump-x") {
		t.Errorf("the other annotations are gone too:\n%s", out)
	}
}
