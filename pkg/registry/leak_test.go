package registry

import (
	"reflect"
	"strings"
	"testing"
)

// Only the keys hubctl reads survive in data and stringData; config and
// anything else is checked for shape and dropped.
func TestSecretDataKeepsOnlyClusterKeys(t *testing.T) {
	c := mustParse(t, secretYAML("prod", `stringData:
  name: prod
  server: https://prod.example.com
  project: platform
  namespaces: a,b
  clusterResources: "true"
  config: '{"bearerToken":"tok"}'
  extra: x
`))[0]
	var s secret
	if err := decodeStrict([]byte(secretYAML("prod", "stringData: {name: p, config: '{}', extra: x, server: s}\n")), &s); err != nil {
		t.Fatal(err)
	}
	if want := (secretData{"name": "p", "server": "s"}); !reflect.DeepEqual(s.StringData, want) {
		t.Errorf("stringData = %v, want %v", s.StringData, want)
	}
	if c.Name != "prod" || c.Server != "https://prod.example.com" || c.Project != "platform" {
		t.Errorf("cluster %+v", c)
	}
}

// kubectl's last-applied-configuration is dropped whatever its shape; the
// other annotations are kept.
func TestLastAppliedConfigurationIsDropped(t *testing.T) {
	for _, v := range []string{"|\n      {\"stringData\":{\"config\":\"tok\"}}", "{stringData: {config: tok}}", "12345", "[a]", "null"} {
		data := strings.Replace(secretYAML("prod", "stringData: {name: prod}\n"), "  annotations:\n",
			"  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: "+v+"\n", 1)
		c := mustParse(t, data)[0]
		if want := map[string]string{"addons_repo_url": "https://github.com/gitops-hub/gitops-hub.git"}; !reflect.DeepEqual(c.Annotations, want) {
			t.Errorf("last-applied %s: annotations %v, want %v", v, c.Annotations, want)
		}
	}
}

func TestScrubYAMLError(t *testing.T) {
	for in, want := range map[string]string{
		"line 3: cannot unmarshal !!str `tok3nCA...` into bool":       "line 3: cannot unmarshal !!str into bool",
		"yaml: cannot decode !!str `secret` as a !!timestamp":         "yaml: cannot decode !!str as a !!timestamp",
		"yaml: unknown anchor 'secret' referenced":                    "yaml: unknown anchor referenced",
		"line 4: cannot unmarshal !secret `x` into map[string]string": "line 4: cannot unmarshal a locally tagged value into map[string]string",
		"yaml: invalid map key: map[string]interface {}{\"a\":\"s\"}": "yaml: invalid map key",
		"line 5: field spec not found in type registry.secret":        "line 5: field spec not found in type registry.secret",
	} {
		if got := scrubYAMLError(in); got != want {
			t.Errorf("scrubYAMLError(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever token is written unquoted where credentials live, and whatever
// else is wrong with the Secret, the token is not in the error.
func FuzzParseNeverEchoesCredentials(f *testing.F) {
	for _, s := range []string{"987654321098765", "tok3nCANARYvalue", "0x9f8e7d6c5b4a39", "eyJhbGciOiJSUzI1NiJ9"} {
		f.Add(s, uint8(0))
	}
	shapes := []func(tok string) string{
		func(tok string) string { return secretYAML("p", "stringData:\n  name: p\n  config: "+tok+"\n") },
		func(tok string) string {
			return secretYAML("p", "stringData:\n  name: p\n  config: "+tok+"\nspec: {}\n")
		},
		func(tok string) string {
			return secretYAML("p", "data:\n  name: cA==\n  config: "+tok+"\n  server: '!!'\n")
		},
		func(tok string) string { return secretYAML("p", "stringData: "+tok+"\n") },
		func(tok string) string {
			return strings.Replace(secretYAML("p", "stringData: {name: p}\nimmutable: x\n"), "  annotations:\n", "  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: "+tok+"\n    n: 1\n", 1)
		},
		func(tok string) string {
			return secretYAML("p", "stringData:\n  name: p\n  config: [{token: "+tok+"}]\n")
		},
	}
	f.Fuzz(func(t *testing.T, tok string, shape uint8) {
		if len(tok) < 8 || strings.IndexFunc(tok, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) >= 0 {
			return
		}
		_, err := Parse("f.yaml", []byte(shapes[int(shape)%len(shapes)](tok)))
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Fatalf("token %q echoed: %v", tok, err)
		}
	})
}
