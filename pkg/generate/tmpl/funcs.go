package tmpl

import (
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/gosimple/slug"
	"sigs.k8s.io/yaml"
)

// FuncMap returns the functions of Argo CD's goTemplate mode
// (applicationset/utils/template_functions.go): sprig's generic functions
// without env, expandenv and getHostByName, plus normalize, slugify, toYaml,
// fromYaml and fromYamlArray.
func FuncMap() template.FuncMap {
	f := sprig.GenericFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	delete(f, "getHostByName")
	f["normalize"] = SanitizeName
	f["slugify"] = SlugifyName
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	return f
}

// invalidDNSRune is upstream's `[^-a-z0-9.]`: each such character (rune)
// becomes one '-'.
func invalidDNSRune(r rune) bool {
	return !(r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
}

const maxDNSNameLength = 253

// SanitizeName lower-cases name, replaces every character outside
// [-a-z0-9.] with '-', truncates to 253 bytes and trims '-' and '.' at both
// ends (upstream applicationset/utils SanitizeName; `nameNormalized`).
func SanitizeName(name string) string {
	name = strings.ToLower(name)
	if strings.IndexFunc(name, invalidDNSRune) >= 0 {
		name = strings.Map(func(r rune) rune {
			if invalidDNSRune(r) {
				return '-'
			}
			return r
		}, name)
	}
	if len(name) > maxDNSNameLength {
		name = name[:maxDNSNameLength]
	}
	return strings.Trim(name, "-.")
}

// slugMu guards gosimple/slug's package-level MaxLength and
// EnableSmartTruncate, which upstream sets on every call.
var slugMu sync.Mutex

// SlugifyName implements `slugify [maxLength] [smartTruncate] name`: the
// last argument is the name; defaults are 50 and true.
func SlugifyName(args ...any) string {
	if len(args) == 0 {
		return ""
	}
	maxLen, smart := 50, true
	name := fmt.Sprint(args[len(args)-1])
	if len(args) > 1 {
		if v, ok := args[0].(int); ok {
			maxLen = v
		}
	}
	if len(args) > 2 {
		if v, ok := args[1].(bool); ok {
			smart = v
		}
	}
	slugMu.Lock()
	defer slugMu.Unlock()
	slug.MaxLength = maxLen
	slug.EnableSmartTruncate = smart
	return slug.Make(SanitizeName(name))
}

func toYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

func fromYAML(s string) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func fromYAMLArray(s string) ([]any, error) {
	var a []any
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return nil, err
	}
	return a, nil
}
