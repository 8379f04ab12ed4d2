// Package fastyaml is a fast, allocation-lean YAML encoder whose output is
// byte-identical to sigs.k8s.io/yaml.Marshal for the value trees we print
// (the output of encoding/json decoding plus a few directly built Go types).
//
// sigs.k8s.io/yaml.Marshal works as json.Marshal -> yaml.v2 Unmarshal ->
// yaml.v2 Marshal. This package reproduces the observable result of that
// pipeline directly for the inputs it can prove it renders identically, and
// otherwise hands the WHOLE top-level value to sigs.k8s.io/yaml.Marshal.
//
// Fast path (everything else falls back):
//
//   - containers: map[string]any, map[string]string, []any, []string,
//     []map[string]any (nil -> null, empty -> {} / []), nested at most
//     maxDepth levels;
//   - nil, bool, int, int64;
//   - float64 holding an integral value with |f| < 1e15 (encoding/json
//     prints it as an integer, which yaml.v2 re-reads as an int);
//   - json.Number in canonical integer form -?(0|[1-9][0-9]*) of at most
//     18 digits;
//   - strings (values and keys) made only of printable ASCII without
//     spaces (0x21..0x7E), or the empty string. For those, yaml.v2 never
//     folds or escapes anything except '"' and '\' in double quotes, and the
//     scalar style is decided with the same rules as yaml.v2's
//     encoder.stringv / yaml_emitter_analyze_scalar /
//     yaml_emitter_select_scalar_style: plain, 'single quoted' (plain text
//     that starts with an indicator) or "double quoted" (text that would
//     resolve to another YAML 1.1 type: bool/null words, ints, floats,
//     timestamps, base-60 numbers, the empty string);
//   - map keys additionally have to be at most 128 bytes long (longer keys
//     are emitted by yaml.v2 as explicit "? key" entries) and may not contain
//     a run of more than 15 digits (yaml.v2's key ordering accumulates digit
//     runs in an int64).
//
// Keys are ordered with yaml.v2's "natural" ordering (sorter.go keyList.Less),
// which is not plain byte order: "a9" < "a10", letters sort after
// punctuation and digits, and so on. That comparator is not transitive on
// some key sets (e.g. {"a10", "a1b", "a9"}); the library's output then
// depends on Go's random map iteration order, so such maps (detected
// conservatively, see orderIsTotal) always go to the library.
package fastyaml

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sigsyaml "sigs.k8s.io/yaml"
)

const (
	// maxDepth bounds container nesting on the fast path. Deeper (or cyclic)
	// trees go to the library, which reports the same errors it always does.
	maxDepth = 200
	// maxSimpleKeyLen is yaml.v2's limit for implicit ("simple") keys
	// (yaml_emitter_check_simple_key).
	maxSimpleKeyLen = 128
	// maxKeyDigitRun keeps yaml.v2's key comparator free of int64 overflow.
	maxKeyDigitRun = 15
)

// Append appends to dst exactly the bytes sigs.k8s.io/yaml.Marshal(v) would
// return. If the library would return an error (only possible on the
// fallback path, e.g. for a NaN float, a channel or a cyclic value), dst is
// returned unchanged; use Marshal to observe the error.
func Append(dst []byte, v any) []byte {
	out, _ := appendYAML(dst, v)
	return out
}

// Marshal is a drop-in replacement for sigs.k8s.io/yaml.Marshal for the
// supported value trees.
func Marshal(v any) ([]byte, error) {
	if out, ok := appendFast(nil, v); ok {
		return out, nil
	}
	return sigsyaml.Marshal(v)
}

func appendYAML(dst []byte, v any) ([]byte, error) {
	if out, ok := appendFast(dst, v); ok {
		return out, nil
	}
	b, err := sigsyaml.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendFast encodes v if every node of the tree is on the fast path. It
// reports false (and returns dst with its original length) otherwise.
func appendFast(dst []byte, v any) ([]byte, bool) {
	e := encPool.Get().(*encoder)
	n := len(dst)
	out, ok := e.node(dst, v, 0, ctxRoot, 0)
	clear(e.pairs)
	e.pairs = e.pairs[:0]
	if cap(e.pairs) <= 1<<12 {
		encPool.Put(e)
	}
	if !ok {
		return dst[:n], false
	}
	return out, true
}

type pair struct {
	k  string
	s  string // value of map[string]string entries
	v  any    // value of map[string]any entries
	ks style  // style of k
	// digitRun: k has a digit followed by a digit or letter (see
	// orderIsTotal).
	digitRun bool
}

// encoder only holds scratch space for sorting map entries; it is used as a
// stack shared by all nesting levels.
type encoder struct {
	pairs []pair
}

var encPool = sync.Pool{New: func() any { return &encoder{pairs: make([]pair, 0, 64)} }}

// Context in which a node is written.
const (
	ctxRoot    = iota // at column 0 of the document
	ctxMapVal         // right after "key:"
	ctxSeqItem        // right after "-"
)

const spaces = "                                                                "

func appendIndent(dst []byte, n int) []byte {
	for n > len(spaces) {
		dst = append(dst, spaces...)
		n -= len(spaces)
	}
	return append(dst, spaces[:n]...)
}

// leaf appends a complete scalar (or empty flow collection) line.
func leaf(dst []byte, text string, ctx int) []byte {
	if ctx != ctxRoot {
		dst = append(dst, ' ')
	}
	dst = append(dst, text...)
	return append(dst, '\n')
}

// containerStart returns where the entries of a non-empty block collection
// go: the column of its entries and whether the first entry continues the
// current line. It also writes the separator after the parent indicator.
// Sequences that are mapping values are not indented in yaml.v2
// ("key:\n- a"); everything else is indented by 2.
func containerStart(dst []byte, indent, ctx int, isSeq bool) ([]byte, int, bool) {
	switch ctx {
	case ctxMapVal:
		dst = append(dst, '\n')
		if isSeq {
			return dst, indent, false
		}
		return dst, indent + 2, false
	case ctxSeqItem:
		return append(dst, ' '), indent + 2, true
	}
	return dst, 0, false
}

func (e *encoder) node(dst []byte, v any, indent, ctx, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return leaf(dst, "null", ctx), true
	case string:
		return appendStringNode(dst, x, ctx)
	case bool:
		if x {
			return leaf(dst, "true", ctx), true
		}
		return leaf(dst, "false", ctx), true
	case int:
		return appendIntNode(dst, int64(x), ctx), true
	case int64:
		return appendIntNode(dst, x, ctx), true
	case float64:
		// encoding/json prints integral floats below 1e21 without exponent
		// or fraction, which yaml.v2 resolves to an int and prints with
		// strconv.FormatInt (so -0 becomes 0).
		if x != math.Trunc(x) || math.Abs(x) >= 1e15 {
			return dst, false
		}
		return appendIntNode(dst, int64(x), ctx), true
	case json.Number:
		i, ok := parseCanonicalInt(string(x))
		if !ok {
			return dst, false
		}
		return appendIntNode(dst, i, ctx), true
	case map[string]any:
		if x == nil {
			return leaf(dst, "null", ctx), true
		}
		if len(x) == 0 {
			return leaf(dst, "{}", ctx), true
		}
		return e.mapAny(dst, x, indent, ctx, depth+1)
	case map[string]string:
		if x == nil {
			return leaf(dst, "null", ctx), true
		}
		if len(x) == 0 {
			return leaf(dst, "{}", ctx), true
		}
		return e.mapString(dst, x, indent, ctx, depth+1)
	case []any:
		if x == nil {
			return leaf(dst, "null", ctx), true
		}
		if len(x) == 0 {
			return leaf(dst, "[]", ctx), true
		}
		return e.seqAny(dst, x, indent, ctx, depth+1)
	case []string:
		if x == nil {
			return leaf(dst, "null", ctx), true
		}
		if len(x) == 0 {
			return leaf(dst, "[]", ctx), true
		}
		return e.seqString(dst, x, indent, ctx, depth+1)
	case []map[string]any:
		if x == nil {
			return leaf(dst, "null", ctx), true
		}
		if len(x) == 0 {
			return leaf(dst, "[]", ctx), true
		}
		return e.seqMap(dst, x, indent, ctx, depth+1)
	}
	return dst, false
}

func appendIntNode(dst []byte, i int64, ctx int) []byte {
	if ctx != ctxRoot {
		dst = append(dst, ' ')
	}
	dst = strconv.AppendInt(dst, i, 10)
	return append(dst, '\n')
}

func appendStringNode(dst []byte, s string, ctx int) ([]byte, bool) {
	st := classify(s)
	if st == styleFallback {
		return dst, false
	}
	if ctx != ctxRoot {
		dst = append(dst, ' ')
	}
	dst = appendStyled(dst, s, st)
	return append(dst, '\n'), true
}

// parseCanonicalInt accepts -?(0|[1-9][0-9]*) with at most 18 digits, which
// json.Marshal writes verbatim and yaml.v2 resolves to an int.
func parseCanonicalInt(s string) (int64, bool) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	digits := s[i:]
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n int64
	for j := 0; j < len(digits); j++ {
		c := digits[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// keyStyle validates a mapping key for the fast path and returns its style
// and whether it contains a digit followed by a digit or a letter.
func keyStyle(k string) (style, bool) {
	if len(k) > maxSimpleKeyLen {
		return styleFallback, false
	}
	run := 0
	cand := false
	for i := 0; i < len(k); i++ {
		if c := k[i]; isDigit(c) {
			run++
			if run > maxKeyDigitRun {
				return styleFallback, false
			}
		} else {
			if run > 0 && isLetter(c) {
				cand = true
			}
			run = 0
		}
		if run > 1 {
			cand = true
		}
	}
	return classify(k), cand
}

// maxOrderCandidates bounds the quadratic check in orderIsTotal.
const maxOrderCandidates = 256

// orderIsTotal reports whether yaml.v2's key comparator is a strict total
// order on the keys of e.pairs[start:].
//
// keyList.Less is not transitive in general: "a10" < "a1b" (at index 2 a
// digit sorts before a letter), "a1b" < "a9" (1 < 9) and "a9" < "a10"
// (9 < 10). For such key sets the library's output depends on Go's random
// map iteration order, so nothing can match it reliably and we fall back.
//
// Claim: on ASCII keys with digit runs of at most 15 digits, Less(a, b)
// equals a "token order": split keys into maximal digit runs and single
// other bytes; compare token sequences lexicographically (a proper prefix
// sorts first), where punctuation < digit runs < letters, punctuation and
// letters compare by byte, digit runs by (numeric value, length). That is a
// strict total order. The two disagree only for a pair whose first
// differing index i has a digit at i-1 (shared) and where one key has a
// digit and the other a letter at i: Less puts the digit first, the token
// order puts the shorter run first. (Checked exhaustively by
// TestKeyLessMatchesTokenOrder.) So if no pair has that shape, the library's
// sort is deterministic and equal to ours.
//
// Both keys of such a pair contain a digit followed by a digit or a letter
// (pair.digitRun), so only those keys are compared pairwise.
func (e *encoder) orderIsTotal(start int) bool {
	p := e.pairs[start:]
	n := 0
	for i := range p {
		if p[i].digitRun {
			n++
		}
	}
	if n < 2 {
		return true
	}
	if n > maxOrderCandidates {
		return false
	}
	for i := range p {
		if !p[i].digitRun {
			continue
		}
		for j := i + 1; j < len(p); j++ {
			if p[j].digitRun && digitLetterSplit(p[i].k, p[j].k) {
				return false
			}
		}
	}
	return true
}

// digitLetterSplit reports whether a and b first differ right after a
// shared digit, one of them continuing with a digit and the other with a
// letter.
func digitLetterSplit(a, b string) bool {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == 0 || i == n || !isDigit(a[i-1]) {
		return false
	}
	x, y := a[i], b[i]
	return isDigit(x) && isLetter(y) || isLetter(x) && isDigit(y)
}

func (e *encoder) sortPairs(start int) {
	p := e.pairs[start:]
	if len(p) <= 12 {
		for i := 1; i < len(p); i++ {
			for j := i; j > 0 && keyLess(p[j].k, p[j-1].k); j-- {
				p[j], p[j-1] = p[j-1], p[j]
			}
		}
		return
	}
	slices.SortFunc(p, comparePairs)
}

func comparePairs(a, b pair) int {
	if keyLess(a.k, b.k) {
		return -1
	}
	if keyLess(b.k, a.k) {
		return 1
	}
	return 0
}

func (e *encoder) writeKey(dst []byte, i, col int, first bool) []byte {
	if !first {
		dst = appendIndent(dst, col)
	}
	p := &e.pairs[i]
	dst = appendStyled(dst, p.k, p.ks)
	return append(dst, ':')
}

func (e *encoder) mapAny(dst []byte, m map[string]any, indent, ctx, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	start := len(e.pairs)
	for k, v := range m {
		ks, dr := keyStyle(k)
		if ks == styleFallback {
			return dst, false
		}
		e.pairs = append(e.pairs, pair{k: k, v: v, ks: ks, digitRun: dr})
	}
	if !e.orderIsTotal(start) {
		return dst, false
	}
	e.sortPairs(start)
	dst, col, inline := containerStart(dst, indent, ctx, false)
	end := len(e.pairs)
	for i := start; i < end; i++ {
		dst = e.writeKey(dst, i, col, inline && i == start)
		var ok bool
		// e.pairs may be reallocated by nested maps: index it afresh.
		dst, ok = e.node(dst, e.pairs[i].v, col, ctxMapVal, depth)
		if !ok {
			return dst, false
		}
	}
	clear(e.pairs[start:end])
	e.pairs = e.pairs[:start]
	return dst, true
}

func (e *encoder) mapString(dst []byte, m map[string]string, indent, ctx, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	start := len(e.pairs)
	for k, v := range m {
		ks, dr := keyStyle(k)
		if ks == styleFallback {
			return dst, false
		}
		e.pairs = append(e.pairs, pair{k: k, s: v, ks: ks, digitRun: dr})
	}
	if !e.orderIsTotal(start) {
		return dst, false
	}
	e.sortPairs(start)
	dst, col, inline := containerStart(dst, indent, ctx, false)
	end := len(e.pairs)
	for i := start; i < end; i++ {
		dst = e.writeKey(dst, i, col, inline && i == start)
		var ok bool
		dst, ok = appendStringNode(dst, e.pairs[i].s, ctxMapVal)
		if !ok {
			return dst, false
		}
	}
	clear(e.pairs[start:end])
	e.pairs = e.pairs[:start]
	return dst, true
}

func (e *encoder) seqAny(dst []byte, s []any, indent, ctx, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	dst, col, inline := containerStart(dst, indent, ctx, true)
	for i, v := range s {
		if i > 0 || !inline {
			dst = appendIndent(dst, col)
		}
		dst = append(dst, '-')
		var ok bool
		if dst, ok = e.node(dst, v, col, ctxSeqItem, depth); !ok {
			return dst, false
		}
	}
	return dst, true
}

func (e *encoder) seqString(dst []byte, s []string, indent, ctx, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	dst, col, inline := containerStart(dst, indent, ctx, true)
	for i, v := range s {
		if i > 0 || !inline {
			dst = appendIndent(dst, col)
		}
		dst = append(dst, '-')
		var ok bool
		if dst, ok = appendStringNode(dst, v, ctxSeqItem); !ok {
			return dst, false
		}
	}
	return dst, true
}

func (e *encoder) seqMap(dst []byte, s []map[string]any, indent, ctx, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	dst, col, inline := containerStart(dst, indent, ctx, true)
	for i, m := range s {
		if i > 0 || !inline {
			dst = appendIndent(dst, col)
		}
		dst = append(dst, '-')
		var ok bool
		switch {
		case m == nil:
			dst = leaf(dst, "null", ctxSeqItem)
		case len(m) == 0:
			dst = leaf(dst, "{}", ctxSeqItem)
		default:
			if dst, ok = e.mapAny(dst, m, col, ctxSeqItem, depth+1); !ok {
				return dst, false
			}
		}
	}
	return dst, true
}

// ---------------------------------------------------------------------------
// Scalar styles.

type style uint8

const (
	styleFallback style = iota // not provable: use the library
	stylePlain                 // abc
	styleSingle                // 'abc'
	styleDouble                // "abc"
)

func appendStyled(dst []byte, s string, st style) []byte {
	switch st {
	case stylePlain:
		return append(dst, s...)
	case styleSingle:
		dst = append(dst, '\'')
		for {
			i := strings.IndexByte(s, '\'')
			if i < 0 {
				break
			}
			dst = append(dst, s[:i+1]...)
			dst = append(dst, '\'')
			s = s[i+1:]
		}
		dst = append(dst, s...)
		return append(dst, '\'')
	default: // styleDouble
		dst = append(dst, '"')
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		return append(dst, '"')
	}
}

// classify decides how yaml.v2 (as driven by sigs.k8s.io/yaml) writes s as a
// block-context scalar, or styleFallback when s is outside the proven subset:
// anything but printable, space-free ASCII. Restricting to that subset means
// no line folding (yaml.v2 only folds at spaces), no literal block style (no
// line breaks), no escapes except '"' and '\', no base64 (valid UTF-8), and a
// JSON round trip that preserves the string.
func classify(s string) style {
	if len(s) == 0 {
		// Resolves to null, so it is double quoted.
		return styleDouble
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return styleFallback
		}
	}
	// encoder.stringv: plain is only possible if s resolves to !!str and is
	// not a base-60 float; otherwise it is double quoted.
	if !resolvesToStr(s) || isBase60Float(s) {
		return styleDouble
	}
	// yaml_emitter_select_scalar_style: plain unless the analysis forbids
	// plain in block context, then single quoted (always allowed here).
	if blockPlainAllowed(s) {
		return stylePlain
	}
	return styleSingle
}

// blockPlainAllowed mirrors yaml_emitter_analyze_scalar's block_indicators
// computation for a non-empty string without blanks, breaks, or
// non-printable characters.
func blockPlainAllowed(s string) bool {
	n := len(s)
	if n >= 3 && (s[:3] == "---" || s[:3] == "...") {
		return false
	}
	// followed_by_whitespace is only true at the end of the string.
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':', '-':
		if n == 1 {
			return false
		}
	}
	// A ':' followed by whitespace (here: the end) is a block indicator; a
	// '#' only when preceded by whitespace, which cannot happen here.
	return s[n-1] != ':'
}

// resolvesToStr reports whether yaml.v2's resolve("", s) yields !!str.
// s is non-empty, printable, space-free ASCII.
func resolvesToStr(s string) bool {
	switch s[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		// Hint 'M': only the resolve map is consulted.
		return !inResolveMap(s)
	case '.', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if inResolveMap(s) {
			return false
		}
		return numericResolvesToStr(s)
	}
	// Hint 0: never resolved.
	return true
}

// inResolveMap reports whether s is a key of yaml.v2's resolveMap (other
// than "", handled by the caller).
func inResolveMap(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES",
		"true", "True", "TRUE",
		"on", "On", "ON",
		"n", "N", "no", "No", "NO",
		"false", "False", "FALSE",
		"off", "Off", "OFF",
		"~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN",
		".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF",
		"-.inf", "-.Inf", "-.INF",
		"<<":
		return true
	}
	return false
}

// numericResolvesToStr handles the '.', sign and digit hints of yaml.v2's
// resolve. Cheap, allocation-free shortcuts decide the common cases; anything
// else runs a verbatim copy of the library logic.
func numericResolvesToStr(s string) bool {
	tsCandidate := looksLikeTimestamp(s)
	if !tsCandidate {
		digits, other, dots := 0, false, 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				digits++
			case c == '_':
			case c == '.':
				dots++
				other = true
			case (c == '+' || c == '-') && i == 0:
			default:
				other = true
				if !numericChar(c) {
					// No number syntax (Go ints with base prefixes, Go
					// floats incl. inf/nan, the YAML float regexp, base 60
					// numbers) can contain this character, and timestamps
					// were excluded above: it stays a string.
					return true
				}
			}
		}
		if !other && digits > 0 && digits <= 18 {
			// [+-]?[0-9_]+: ParseInt (base 0) succeeds, or for a leading
			// zero with 8/9 (bad octal) the float regexp + ParseFloat do.
			// Either way it is not a string.
			return false
		}
		if dots >= 2 {
			// Neither ints nor the float syntaxes nor base 60 allow two
			// dots ("1.21.0").
			return true
		}
	}
	return libResolveNumericIsStr(s)
}

// numericChar reports whether c may appear in any string the numeric
// branches of yaml.v2's resolve accept (generous superset).
func numericChar(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		return true
	}
	switch c {
	case '+', '-', '.', '_', ':', ',',
		'x', 'X', 'o', 'O', 'p', 'P', 'i', 'I', 'n', 'N', 't', 'T', 'y', 'Y', 'z', 'Z':
		return true
	}
	return false
}

// looksLikeTimestamp is parseTimestamp's quick check: "YYYY-" prefix.
func looksLikeTimestamp(s string) bool {
	if len(s) < 5 || s[4] != '-' {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Verbatim copies of the relevant parts of go.yaml.in/yaml/v2 v2.4.4
// (resolve.go, encode.go; Apache License 2.0 / MIT), reduced to answering
// "is it a string?". Only reached for rare digit/sign/dot-led strings.

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// libResolveNumericIsStr is resolve("", in) for hints '.', 'D' and 'S',
// after the resolve map lookup, returning rtag == !!str.
func libResolveNumericIsStr(in string) bool {
	if in[0] == '.' {
		_, err := strconv.ParseFloat(in, 64)
		return err != nil
	}
	if _, ok := parseTimestamp(in); ok {
		return false
	}
	plain := strings.ReplaceAll(in, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return false
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return false
	}
	if yamlStyleFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return false
		}
	}
	if strings.HasPrefix(plain, "0b") {
		if _, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return false
		}
	} else if strings.HasPrefix(plain, "-0b") {
		if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return false
		}
	}
	return true
}

var allowedTimestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00", // RCF3339Nano with short date fields.
	"2006-1-2t15:4:5.999999999Z07:00", // RFC3339Nano with short date fields and lower-case "t".
	"2006-1-2 15:4:5.999999999",       // space separated with no time zone
	"2006-1-2",                        // date only
}

func parseTimestamp(s string) (time.Time, bool) {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return time.Time{}, false
	}
	for _, format := range allowedTimestampFormats {
		if t, err := time.Parse(format, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var base60float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60float.MatchString(s)
}

// ---------------------------------------------------------------------------
// Key order.

// keyLess is yaml.v2's keyList.Less (sorter.go) for two string keys, on
// bytes instead of runes: keys on the fast path are ASCII, where
// unicode.IsLetter/IsDigit are [A-Za-z]/[0-9].
func keyLess(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		xl, yl := isLetter(x), isLetter(y)
		if xl && yl {
			return x < y
		}
		if xl || yl {
			return yl
		}
		var an, bn int64
		if x == '0' || y == '0' {
			for j := i - 1; j >= 0 && isDigit(a[j]); j-- {
				if a[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		ai := i
		for ; ai < len(a) && isDigit(a[ai]); ai++ {
			an = an*10 + int64(a[ai]-'0')
		}
		bi := i
		for ; bi < len(b) && isDigit(b[bi]); bi++ {
			bn = bn*10 + int64(b[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return x < y
	}
	return len(a) < len(b)
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
