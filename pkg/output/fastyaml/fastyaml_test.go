package fastyaml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// check asserts that Append, Marshal and the library agree on v, byte for
// byte (errors included). It reports whether the fast path handled v.
//
// On the fallback path our output IS the library's, but the library is not
// always deterministic: for key sets on which yaml.v2's key comparator is not
// transitive (e.g. "a10", "a1b", "a9") its key order depends on Go's random
// map iteration. There, two library calls may legitimately differ and we only
// require the same data.
func check(t testing.TB, v any) bool {
	t.Helper()
	want, wantErr := sigsyaml.Marshal(v)

	fast, ok := appendFast(nil, v)
	if ok {
		if wantErr != nil {
			t.Fatalf("fast path accepted %#v, library error: %v", v, wantErr)
		}
		if !bytes.Equal(fast, want) {
			t.Fatalf("fast path (%#v) mismatch\n--- library:\n%s--- fastyaml:\n%s", v, want, fast)
		}
	}

	got, err := Marshal(v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Marshal(%#v) error = %v, library error = %v", v, err, wantErr)
	}
	sameOutput(t, v, "Marshal", got, want, ok)

	prefix := []byte("prefix\n")
	app := Append(slices.Clip(prefix), v)
	if !bytes.HasPrefix(app, prefix) {
		t.Fatalf("Append(%#v) clobbered dst", v)
	}
	sameOutput(t, v, "Append", app[len(prefix):], want, ok)
	return ok
}

// canonicalYAML renders a document with mapping entries sorted, keeping
// scalar styles and tags.
func canonicalYAML(doc []byte) (string, error) {
	var n yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &n); err != nil {
		return "", err
	}
	var canon func(n *yamlv3.Node) string
	canon = func(n *yamlv3.Node) string {
		switch n.Kind {
		case yamlv3.DocumentNode:
			return canon(n.Content[0])
		case yamlv3.MappingNode:
			var entries []string
			for i := 0; i+1 < len(n.Content); i += 2 {
				entries = append(entries, canon(n.Content[i])+": "+canon(n.Content[i+1]))
			}
			slices.Sort(entries)
			return "{" + strings.Join(entries, ", ") + "}"
		case yamlv3.SequenceNode:
			var items []string
			for _, c := range n.Content {
				items = append(items, canon(c))
			}
			return "[" + strings.Join(items, ", ") + "]"
		}
		return fmt.Sprintf("%s/%d/%q", n.Tag, n.Style, n.Value)
	}
	return canon(&n), nil
}

func sameOutput(t testing.TB, v any, what string, got, want []byte, fast bool) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if !fast {
		// Library vs library: accept a different order of map entries.
		// The documents are compared as YAML node trees (yaml.v3, which
		// does not resolve merge keys: the library happily writes things
		// yaml.v2 cannot read back, such as a plain "<<" key).
		gc, gerr := canonicalYAML(got)
		wc, werr := canonicalYAML(want)
		if gerr == nil && werr == nil && gc == wc {
			return
		}
	}
	t.Fatalf("%s(%#v) mismatch (fast=%v)\n--- library:\n%s--- fastyaml:\n%s", what, v, fast, want, got)
}

// caseVariants returns every upper/lower case spelling of w.
func caseVariants(w string) []string {
	out := []string{""}
	for _, r := range w {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		var next []string
		for _, p := range out {
			next = append(next, p+lo)
			if up != lo {
				next = append(next, p+up)
			}
		}
		out = next
	}
	return out
}

func trickyScalars() []string {
	var s []string
	for _, w := range []string{"y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf", ".nan", ".inf", "+.inf", "-.inf"} {
		s = append(s, caseVariants(w)...)
	}
	s = append(s,
		// null / misc words
		"", "~", "~a", "a~", "<<", "<a", "=", "Infinity", "-Infinity", "+inf", "NaN",
		// ints in all forms
		"0", "1", "-1", "+1", "-0", "+0", "007", "08", "09", "0_8", "-08", "0x1f", "0X1F", "-0x1f", "+0x1f", "0x", "0xg", "0x_1f",
		"0o17", "0O17", "0o8", "0b101", "0B101", "-0b101", "0b-1", "0b+1", "+0b1", "0b", "0b2", "-0b", "1_000", "1__0", "_1", "1_", "+_1", "-_",
		"123456789012345678", "1234567890123456789", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
		"-123456789012345678901234567890", strings.Repeat("9", 400), "-"+strings.Repeat("9", 400),
		// floats
		"1.5", "-1.5", "+1.5", "1.", "1.e3", ".5", "-.5", "+.5", ".5e3", ".5E-3", "._5", ".5_0", ".e5", ".5a", ".5e", ".5p3",
		"1e3", "1E3", "1e+3", "1e-3", "1.5e-3", "1e", "1e+", "e3", "E3", "1e999", "1e400", "-1e400", "1e-400", "0x1p-2", "1_000.5",
		"1.2.3", "1.21.0", "0.1.0", "v1.2.3", ".", "..", "...", "..a", ".a", ".5.5", "2e", "1f", "1d", "1b", "1x",
		// base 60
		"1:20", "1:20:30", "190:20:30.15", "1:60", "1:6", "-1:20", "+1:20", "1:2a", "1:20.", "1_0:20", "1:", ":1", "1::2", "12:34:56:78",
		// timestamps
		"2024-01-01", "2024-1-1", "2024-01-01T10:00:00Z", "2024-01-01t10:00:00Z", "2024-01-01T10:00:00+02:00",
		"2024-01-01T10:00:00.123Z", "2024-01-01T10:00:00,123Z", "2024-01-01T10:00:00", "2024-13-01", "2024-01-01x",
		"20240-01-01", "2024-01-01_", "2024-", "2024-01", "2024-01-01 10:00:00", "1_2024-01-01", "2024_01-01",
		// Kubernetes-ish values
		"100Mi", "3000m", "1Gi", "0.5", "10.0.0.0/8", "nginx:1.21", "sha256:abcdef", "https://github.com/org/repo.git",
		"app.kubernetes.io/name", "CreateNamespace=true", "HEAD", "main", "*", "a*b", "key=value,foo=bar", "x?y=1&z=2",
		// indicators
		"-", "-a", "--", "---", "---a", "--a", "- a", "-1a", "?", "?a", "? a", ":", ":a", ": a", "::", "*a", "&a", "!a", "|a", ">a",
		"'a", "\"a", "%a", "@a", "`a", "#a", "[a", "]a", "{a", "}a", ",a", "a,", "a[", "a]", "a{", "a}", "a?", "a|", "a>", "a&", "a*",
		"a:", "a::", "a:b", "a: b", "a #b", "a#b", "a'b", "a''b", "'", "''", "a\"b", "\"", "a\\b", "\\", "\\\\", "a%", "a!", "a@",
		"$var", "$", "(a)", "a;b", "^a",
		// whitespace
		" ", "a ", " a", "a  b", "a b", "\ta", "a\t", "a\tb",
		// unicode and control characters
		"héllo", "日本語", "a\u2028b", "a\u0085b", "\ufeffa", "a\ufeff", "a\u00a0b", "😀", "\x00", "a\x7f", "\x1b", "\xff", "a\xc3",
		// line breaks
		"a\nb", "a\n", "\n", "\na", "a\r\nb", "a\rb", "a\n\nb", " a\nb", "a \nb", "a\n b",
		// long strings
		strings.Repeat("a", 79), strings.Repeat("a", 80), strings.Repeat("a", 81), strings.Repeat("a", 200),
		strings.Repeat("abc ", 50), strings.Repeat("x-", 100), strings.Repeat("1", 128), strings.Repeat("k", 128),
		strings.Repeat("k", 129), strings.Repeat("k", 1500), "a"+strings.Repeat("'", 100),
	)
	return s
}

func TestTrickyScalars(t *testing.T) {
	for _, s := range trickyScalars() {
		check(t, s)
		check(t, map[string]any{"k": s})
		check(t, map[string]any{s: "v"})
		check(t, map[string]any{s: s, "other": []any{s}})
		check(t, map[string]string{s: s, "a": s})
		check(t, []any{s, map[string]any{s: []any{s}}})
		check(t, []string{s, s})
		check(t, json.Number(s))
		check(t, map[string]any{"n": json.Number(s)})
	}
}

// TestFastPathCoverage makes sure the fast path is not vacuous: these values
// must be encoded without the library.
func TestFastPathCoverage(t *testing.T) {
	for _, s := range []string{
		"abc", "", "1", "true", "yes", "~", "*", "-a", "?a", "a:b", "a'b", "a\"b", "1.21.0", "100Mi", "0.5", "2024-01-01T10:00:00Z",
		"1:20", "1e3", "0x1f", "nginx:1.21", "https://github.com/org/repo.git", ".5", "..a", "+", strings.Repeat("k", 128),
	} {
		for _, v := range []any{s, map[string]any{s: s}, []string{s}, map[string]any{"k": strings.Repeat(s, 20)}} {
			if !check(t, v) {
				t.Errorf("%#v: not on the fast path", v)
			}
		}
	}
	for _, v := range []any{
		nil, true, false, 0, -5, int64(math.MinInt64), int64(math.MaxInt64), 3.0, -0.0, float64(1e15 - 1), -float64(1e15 - 1),
		json.Number("42"), json.Number("-0"), json.Number("-123456789012345678"),
		map[string]any{}, []any{}, []string{}, map[string]string{}, []map[string]any{},
		map[string]any(nil), []any(nil), []string(nil), map[string]string(nil), []map[string]any(nil),
		[]map[string]any{nil, {}, {"a": 1}}, []any{[]any{}, map[string]any{}, []any{[]any{[]any{"x"}}}},
		map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{map[string]any{"d": []any{[]any{"e", "f"}, "g"}}}}}},
	} {
		if !check(t, v) {
			t.Errorf("%#v: not on the fast path", v)
		}
	}
	// And these must fall back.
	for _, v := range []any{
		"a b", "héllo", "a\nb", 1.5, math.Inf(1), math.NaN(), float64(1e15), json.Number("1.0"), json.Number("007"),
		json.Number("1234567890123456789"), json.Number(""), int32(1), uint(1), []int{1}, struct{}{}, map[string]int{"a": 1},
		map[string]any{strings.Repeat("k", 129): 1}, map[string]any{"a1234567890123456": 1}, []any{"ok", "not ok"},
	} {
		if _, ok := appendFast(nil, v); ok {
			t.Errorf("%#v: unexpectedly on the fast path", v)
		}
		check(t, v)
	}
}

func TestNumbers(t *testing.T) {
	for _, v := range []any{
		0, 1, -1, math.MaxInt, math.MinInt, int64(math.MaxInt64), int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 1.0, -1.0, 3.0, 1e14, -1e14, 1e15 - 1, 1e15, 1e16, 1e20, 1e21, 1e22, 0.5, -0.5,
		1e-6, 1e-7, 123.456, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(),
		float64(1 << 53), float64(1<<53 + 1), float64(math.MaxInt64), float64(math.MinInt64),
	} {
		check(t, v)
		check(t, map[string]any{"n": v})
		check(t, []any{v})
	}
	for _, n := range []string{"0", "-0", "1", "-1", "10", "123456789012345678", "-123456789012345678", "1234567890123456789",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "1.0", "1e3", "1E3", "0.5",
		"-0.0", "1e400", "01", "+1", "", " 1", "0x10", "abc"} {
		check(t, json.Number(n))
		check(t, map[string]any{"n": json.Number(n)})
	}
}

func TestErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), map[string]any{"a": math.Inf(1)}, make(chan int), func() {}} {
		_, wantErr := sigsyaml.Marshal(v)
		if wantErr == nil {
			t.Fatalf("library accepted %#v", v)
		}
		if _, err := Marshal(v); err == nil {
			t.Errorf("Marshal(%#v): no error", v)
		}
		if got := Append([]byte("x"), v); string(got) != "x" {
			t.Errorf("Append(%#v) = %q, want dst unchanged", v, got)
		}
	}
	// A cyclic value must not overflow the stack on the fast path.
	cyc := map[string]any{}
	cyc["self"] = cyc
	if _, err := Marshal(cyc); err == nil {
		t.Errorf("Marshal(cyclic): no error")
	}
	// Deep but legal nesting: fast up to maxDepth, fallback beyond.
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1, 3 * maxDepth} {
		var v any = "leaf"
		for i := 0; i < depth; i++ {
			if i%2 == 0 {
				v = map[string]any{"k": v}
			} else {
				v = []any{v}
			}
		}
		check(t, v)
	}
}

func TestKeyOrder(t *testing.T) {
	keys := []string{
		"a10", "a9", "a09", "a1", "a01", "a001", "a0", "a00", "a", "A", "b", "B", "Z", "z", "_", "-", ".", "a-1", "a_1", "a.1",
		"A1", "b1", "1", "10", "9", "09", "0", "00", "x1y2", "x1y10", "x01y", "x1-", "x1_", "x0999", "x1.5", "x1.10", "v1.10.0", "v1.9.0", "v1.9.10", "image-2", "image-10", "port8080",
		"port80", "port443", "true", "yes", "1.5", "'q", "*s", "~", "a~", "a(", "a)", "a:b", "a/b", "a/10", "a/9", "a/09",
		"10/a", "9/a", "", "v1", "v1beta1", "v1alpha1", "v2", "v2beta2", "node1", "node2", "node10", "node-10",
	}
	m := map[string]any{}
	for i, k := range keys {
		m[k] = i
	}
	for range 20 { // the library iterates the map in random order
		if !check(t, m) {
			t.Fatal("key order test not on the fast path")
		}
	}

	// Key sets on which yaml.v2's comparator is not transitive must fall
	// back: "a10" < "a1b" < "a9" < "a10".
	for _, bad := range [][]string{
		{"a10", "a1b", "a9"}, {"a10", "a1b"}, {"v1alpha1", "v10"}, {"x01", "x0b"}, {"1a", "10"},
		{"x10y", "x11", "x100"}, {"0a", "00a", "09"},
	} {
		m := map[string]any{}
		for _, k := range bad {
			m[k] = k
		}
		if _, ok := appendFast(nil, m); ok {
			t.Errorf("%q: comparator not transitive here, fast path must not be taken", bad)
		}
		check(t, m)
	}
}

// libKeyLess is a verbatim copy of go.yaml.in/yaml/v2 keyList.Less for two
// string keys (runes, unicode classes).
func libKeyLess(as, bs string) bool {
	ar, br := []rune(as), []rune(bs)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// tokenLess is the strict total order described at orderIsTotal.
func tokenLess(a, b string) bool {
	for len(a) > 0 && len(b) > 0 {
		ta, ra := nextToken(a)
		tb, rb := nextToken(b)
		if ta != tb {
			ca, cb := tokenClass(ta), tokenClass(tb)
			if ca != cb {
				return ca < cb
			}
			if ca == 1 {
				va, _ := strconv.ParseInt(ta, 10, 64)
				vb, _ := strconv.ParseInt(tb, 10, 64)
				if va != vb {
					return va < vb
				}
				return len(ta) < len(tb)
			}
			return ta < tb
		}
		a, b = ra, rb
	}
	return len(a) < len(b)
}

func nextToken(s string) (tok, rest string) {
	i := 1
	if isDigit(s[0]) {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return s[:i], s[i:]
}

func tokenClass(tok string) int {
	switch {
	case isDigit(tok[0]):
		return 1
	case isLetter(tok[0]):
		return 2
	}
	return 0
}

func allStrings(alphabet string, maxLen int) []string {
	out := []string{""}
	prev := []string{""}
	for ; maxLen > 0; maxLen-- {
		var next []string
		for _, p := range prev {
			for i := 0; i < len(alphabet); i++ {
				next = append(next, p+alphabet[i:i+1])
			}
		}
		out = append(out, next...)
		prev = next
	}
	return out
}

// TestKeyLessMatchesTokenOrder checks, exhaustively on short keys over a
// digit-heavy alphabet, that (1) keyLess is the library's comparator, and
// (2) it agrees with the total token order on every pair orderIsTotal lets
// through, which is what makes sorting with a different algorithm (and from
// a different initial order) produce the library's bytes.
func TestKeyLessMatchesTokenOrder(t *testing.T) {
	maxLen := 4
	if testing.Short() {
		maxLen = 3
	}
	keys := allStrings("aZ019-_~", maxLen)
	for _, a := range keys {
		for _, b := range keys {
			if a == b {
				continue
			}
			kl := keyLess(a, b)
			if kl != libKeyLess(a, b) {
				t.Fatalf("keyLess(%q, %q) = %v, library says %v", a, b, kl, !kl)
			}
			if !digitLetterSplit(a, b) && kl != tokenLess(a, b) {
				t.Fatalf("keyLess(%q, %q) = %v, token order says %v", a, b, kl, !kl)
			}
		}
	}
	// The token order is a strict total order.
	slices.SortFunc(keys, func(a, b string) int {
		if tokenLess(a, b) {
			return -1
		}
		if tokenLess(b, a) {
			return 1
		}
		return 0
	})
	for i := 1; i < len(keys); i++ {
		if !tokenLess(keys[i-1], keys[i]) {
			t.Fatalf("token order: %q !< %q", keys[i-1], keys[i])
		}
	}
	for i := 0; i < len(keys); i += 7 {
		for j := i + 1; j < len(keys); j++ {
			if !tokenLess(keys[i], keys[j]) || tokenLess(keys[j], keys[i]) {
				t.Fatalf("token order not total: %q vs %q", keys[i], keys[j])
			}
		}
	}
	// Spot-check against the real library: random key sets, many times each
	// (the library starts from a random map order every time).
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range 3000 {
		m := map[string]any{}
		for n := r.IntN(6) + 2; n > 0; n-- {
			if k := keys[r.IntN(len(keys))]; k != "" {
				m[k] = 1
			}
		}
		if check(t, m) {
			fast++
		}
	}
	t.Logf("%d/3000 random key sets on the fast path", fast)
}

func argoApplication() map[string]any {
	return map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata": map[string]any{
			"name":      "guestbook-prod-eu-west-1",
			"namespace": "argocd",
			"labels": map[string]any{
				"app.kubernetes.io/name":       "guestbook",
				"app.kubernetes.io/part-of":    "gitops-hub",
				"app.kubernetes.io/managed-by": "gitops-hub",
				"environment":                  "prod",
				"region":                       "eu-west-1",
				"tier":                         "frontend",
			},
			"annotations": map[string]any{
				"argocd.argoproj.io/sync-wave":                             "10",
				"argocd.argoproj.io/compare-options":                       "IgnoreExtraneous",
				"notifications.argoproj.io/subscribe.on-sync-failed.slack": "platform-alerts",
				"gitops-hub.io/generated":                                  "true",
			},
			"finalizers": []any{"resources-finalizer.argocd.argoproj.io"},
		},
		"spec": map[string]any{
			"project": "guestbook",
			"source": map[string]any{
				"repoURL":        "https://github.com/gitops-hub/guestbook.git",
				"targetRevision": "v1.21.0",
				"path":           "charts/guestbook",
				"helm": map[string]any{
					"releaseName": "guestbook",
					"valueFiles":  []any{"values.yaml", "values-prod.yaml", "values-eu-west-1.yaml"},
					"parameters": []any{
						map[string]any{"name": "image.tag", "value": "1.21.0"},
						map[string]any{"name": "replicaCount", "value": "3"},
						map[string]any{"name": "ingress.enabled", "value": "true", "forceString": true},
					},
				},
			},
			"destination": map[string]any{
				"server":    "https://kubernetes.default.svc",
				"namespace": "guestbook-prod",
			},
			"syncPolicy": map[string]any{
				"automated": map[string]any{"prune": true, "selfHeal": true, "allowEmpty": false},
				"syncOptions": []any{
					"CreateNamespace=true", "ServerSideApply=true", "PruneLast=true", "ApplyOutOfSyncOnly=true",
				},
				"retry": map[string]any{
					"limit": float64(5),
					"backoff": map[string]any{
						"duration": "5s", "factor": float64(2), "maxDuration": "3m",
					},
				},
			},
			"ignoreDifferences": []any{
				map[string]any{
					"group": "apps", "kind": "Deployment",
					"jsonPointers": []any{"/spec/replicas"},
				},
				map[string]any{
					"group": "*", "kind": "Secret", "name": "guestbook-tls",
					"managedFieldsManagers": []any{"cert-manager"},
				},
			},
			"revisionHistoryLimit": float64(10),
			"info":                 []any{},
		},
	}
}

func TestArgoApplication(t *testing.T) {
	app := argoApplication()
	if !check(t, app) {
		t.Fatal("Application not on the fast path")
	}
	want, _ := sigsyaml.Marshal(app)
	t.Logf("\n%s", want)

	// A stream of documents, as the CLI prints them.
	var buf, lib []byte
	for i := range 5 {
		app["metadata"].(map[string]any)["name"] = fmt.Sprintf("app-%d", i)
		buf = append(buf, "---\n"...)
		buf = Append(buf, app)
		b, _ := sigsyaml.Marshal(app)
		lib = append(append(lib, "---\n"...), b...)
	}
	if !bytes.Equal(buf, lib) {
		t.Fatalf("stream mismatch")
	}

	// Typed variants we build directly.
	check(t, map[string]any{
		"labels":  map[string]string{"a": "b", "c10": "x", "c9": "y", "n": "1"},
		"items":   []map[string]any{{"name": "a"}, {"name": "b", "list": []string{"x", "y"}}},
		"strings": []string{"CreateNamespace=true", "yes"},
	})
}

func TestAllocs(t *testing.T) {
	app := argoApplication()
	dst := make([]byte, 0, 1<<14)
	Append(dst, app) // warm the pool
	allocs := testing.AllocsPerRun(200, func() { dst = Append(dst[:0], app) })
	if allocs > 0 {
		t.Errorf("Append allocates %.1f times per call on the fast path", allocs)
	}
}

// ---------------------------------------------------------------------------
// Randomized differential test.

var vocabulary = func() []string {
	v := []string{
		"abc", "name", "app", "a10", "a9", "a09", "A", "b", "x-y", "x_y", "x.y", "a/b", "nginx:1.21", "v1.2.3", "1.2.3", "100Mi",
		"HEAD", "main", "CreateNamespace=true", "https://example.com/x?y=1&z=2", "$HOME", "@scope", "a@b", "a#b", "a:b",
	}
	v = append(v, trickyScalars()...)
	return v
}()

type gen struct {
	r *rand.Rand
}

func (g *gen) str() string {
	if g.r.IntN(8) == 0 {
		// Composite from random pieces, to reach combinations the table
		// does not list.
		pieces := []string{"a", "Z", "0", "1", "9", "00", "-", ".", "_", ":", "#", "'", "\"", "\\", " ", "x", "e", "+", "/", "y", "n", "~", "*", "?", "\n"}
		var sb strings.Builder
		for n := g.r.IntN(6) + 1; n > 0; n-- {
			sb.WriteString(pieces[g.r.IntN(len(pieces))])
		}
		return sb.String()
	}
	return vocabulary[g.r.IntN(len(vocabulary))]
}

func (g *gen) value(depth int) any {
	leafOnly := depth <= 0
	k := g.r.IntN(16)
	if leafOnly {
		k = g.r.IntN(8)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return g.r.IntN(2000) - 1000
	case 3:
		if g.r.IntN(4) == 0 {
			return float64(g.r.IntN(1000)) / 4
		}
		return float64(g.r.IntN(100000) - 50000)
	case 4:
		if g.r.IntN(3) == 0 {
			return json.Number(g.str())
		}
		return json.Number(fmt.Sprint(g.r.Int64N(1<<62) - 1<<61))
	case 5, 6, 7:
		return g.str()
	case 8, 9, 10:
		m := map[string]any{}
		for n := g.r.IntN(5); n > 0; n-- {
			m[g.str()] = g.value(depth - 1)
		}
		return m
	case 11, 12:
		s := make([]any, g.r.IntN(4))
		for i := range s {
			s[i] = g.value(depth - 1)
		}
		return s
	case 13:
		m := map[string]string{}
		for n := g.r.IntN(4); n > 0; n-- {
			m[g.str()] = g.str()
		}
		return m
	case 14:
		s := make([]string, g.r.IntN(3))
		for i := range s {
			s[i] = g.str()
		}
		return s
	default:
		s := make([]map[string]any, g.r.IntN(3))
		for i := range s {
			if g.r.IntN(5) > 0 {
				m := map[string]any{}
				for n := g.r.IntN(3); n > 0; n-- {
					m[g.str()] = g.value(depth - 2)
				}
				s[i] = m
			}
		}
		return s
	}
}

func TestRandomDifferential(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := &gen{r: rand.New(rand.NewPCG(20240501, 42))}
	fast := 0
	for range n {
		if check(t, g.value(4)) {
			fast++
		}
	}
	t.Logf("%d/%d random trees took the fast path", fast, n)
	if fast < n/10 {
		t.Errorf("only %d/%d random trees took the fast path", fast, n)
	}
}

// ---------------------------------------------------------------------------
// Fuzzing.

// fuzzTree decodes a small value tree from fuzz input. Strings are either raw
// bytes or mapped through a YAML-relevant alphabet so the fuzzer reaches the
// fast path often.
type fuzzTree struct {
	b     []byte
	nodes int
}

const fuzzAlphabet = "aZy0n19eExX.-+_:#'\"\\ /~*?!&|>%@`,[]{}<=tTfFoObB\n\tN"

func (f *fuzzTree) byte() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzTree) str() string {
	h := f.byte()
	n := int(h & 0x1f)
	if n > len(f.b) {
		n = len(f.b)
	}
	raw := f.b[:n]
	f.b = f.b[n:]
	if h&0x20 != 0 {
		return string(raw)
	}
	out := make([]byte, n)
	for i, c := range raw {
		out[i] = fuzzAlphabet[int(c)%len(fuzzAlphabet)]
	}
	return string(out)
}

func (f *fuzzTree) value(depth int) any {
	f.nodes++
	op := f.byte()
	if depth > 6 || f.nodes > 200 {
		op %= 8
	}
	switch op % 16 {
	case 0:
		return nil
	case 1:
		return op&0x10 != 0
	case 2:
		return int(int8(f.byte())) * int(f.byte())
	case 3:
		v := float64(int16(uint16(f.byte())<<8 | uint16(f.byte())))
		if op&0x10 != 0 {
			v /= 8
		}
		if op&0x20 != 0 {
			v *= 1e12
		}
		return v
	case 4:
		return json.Number(f.str())
	case 5, 6, 7:
		return f.str()
	case 8, 9:
		m := map[string]any{}
		for n := f.byte() % 6; n > 0; n-- {
			m[f.str()] = f.value(depth + 1)
		}
		return m
	case 10, 11:
		s := make([]any, f.byte()%5)
		for i := range s {
			s[i] = f.value(depth + 1)
		}
		return s
	case 12:
		m := map[string]string{}
		for n := f.byte() % 4; n > 0; n-- {
			m[f.str()] = f.str()
		}
		return m
	case 13:
		s := make([]string, f.byte()%4)
		for i := range s {
			s[i] = f.str()
		}
		return s
	case 14:
		s := make([]map[string]any, f.byte()%3)
		for i := range s {
			if f.byte()%4 != 0 {
				m := map[string]any{}
				for n := f.byte() % 3; n > 0; n-- {
					m[f.str()] = f.value(depth + 1)
				}
				s[i] = m
			}
		}
		return s
	default:
		return int64(f.byte())<<56 | int64(f.byte())<<8 | int64(f.byte())
	}
}

func FuzzAppend(f *testing.F) {
	f.Add([]byte("\x08\x03\x01a\x05\x03abc\x01b\x0a\x02\x05\x01x\x05\x011"))
	f.Add([]byte("\x05\x05hello"))
	f.Add([]byte("\x05\x25hel o"))
	f.Add([]byte("\x08\x04\x03a10\x02\x01\x02\x02a9\x00\x03a09\x01"))
	f.Add([]byte("\x04\x02-0"))
	f.Add([]byte("\x0e\x02\x01\x02\x01k\x05\x01*"))
	f.Add([]byte("\x03\x7f\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ft := &fuzzTree{b: data}
		check(t, ft.value(0))
	})
}

// ---------------------------------------------------------------------------
// Benchmarks.

func BenchmarkAppend(b *testing.B) {
	app := argoApplication()
	dst := Append(nil, app)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		dst = Append(dst[:0], app)
	}
}

func BenchmarkLibrary(b *testing.B) {
	app := argoApplication()
	out, _ := sigsyaml.Marshal(app)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sigsyaml.Marshal(app); err != nil {
			b.Fatal(err)
		}
	}
}
