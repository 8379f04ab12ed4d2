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

// boundedFuncMap is FuncMap with every function bounded (limits.go), plus text/template's
// print, printf and println (the same fmt functions, bounded) and the loop counter's name.
func boundedFuncMap(l Limits) template.FuncMap {
	f := FuncMap()
	f["print"] = fmt.Sprint
	f["printf"] = fmt.Sprintf
	f["println"] = fmt.Sprintln
	f = boundedFuncs(f, l.MaxOutput)
	f[tickFunc] = noTick
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
// last argument is the name; defaults are 50 and true. As upstream, each
// argument must have the type of its position (name string, maxLength int,
// smartTruncate bool): any other value panics with the runtime's
// "interface conversion" error, which text/template reports as
// `error calling slugify: interface conversion: ...`. Arguments between the
// second and the last are ignored.
func SlugifyName(args ...any) string {
	if len(args) == 0 {
		return ""
	}
	maxLen, smart := 50, true
	if len(args) > 1 {
		maxLen = args[0].(int)
	}
	if len(args) > 2 {
		smart = args[1].(bool)
	}
	name := args[len(args)-1].(string)
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

// fromYAML and fromYAMLArray start from an empty map / slice, as upstream
// does: an empty or `null` document yields {} / [] (not nil), which matters
// to toYaml, toJson and set.
func fromYAML(s string) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func fromYAMLArray(s string) ([]any, error) {
	a := []any{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return nil, err
	}
	return a, nil
}
