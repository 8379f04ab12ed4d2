package source

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// Glob expansion of value files. Argo CD expands a valueFiles entry that
// contains '*', '?' or '[' (reposerver/repository isGlobPath) with
// doublestar.FilepathGlob (github.com/bmatcuk/doublestar/v4);
// docs/user-guide/helm.md "Glob Patterns in Value Files" describes the
// syntax and the order. This is an implementation of that behaviour over an
// fs.FS, checked against doublestar v4.10.0 (the version Argo CD v3.6.1
// uses) on random patterns:
//
//   - '*' any run of characters other than '/', '?' one character, '[...]' a
//     class ('!' or '^' negates, 'a-z' ranges), '{a,b}' alternatives, ''
//     escapes the next character, and a path element that is exactly '**'
//     matches zero or more directories; an unclosed '[' or '{', an empty
//     class or a '}' that closes nothing is a syntax error; '*' and '?'
//     match a leading dot;
//   - a directory's entries are visited in lexical order; for '**' the
//     directory's own matches come before those of its subdirectories
//     (envs/a.yaml, envs/z.yaml, envs/nested/c.yaml);
//   - with '{a,b}' groups, the paths matched up to the last element holding
//     a group are sorted lexically (doublestar globs each alternative and
//     merges the results);
//   - matches are files or directories (a directory then fails as a value
//     file, as Helm fails to read it in Argo CD).
//
// Not covered: a '{...}' group or a '[...]' class that spans a '/' (an
// error here).

// isGlob reports whether a value file path is expanded as a glob.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

var errBadPattern = errors.New("syntax error in pattern")

// globFS returns the paths of fsys matching pattern, a clean slash-separated
// path relative to the root of fsys.
func globFS(fsys fs.FS, pattern string) ([]string, error) {
	segs := strings.Split(pattern, "/")
	for _, s := range segs {
		if s != "**" {
			if _, err := expandBraces(s); err != nil {
				return nil, err
			}
			if err := validateSegment(s); err != nil {
				return nil, err
			}
		}
	}
	var out []string
	var walk func(dir string, segs []string) error
	walk = func(dir string, segs []string) error {
		if len(segs) == 0 {
			out = append(out, dir)
			return nil
		}
		seg := segs[0]
		switch {
		case seg == "**":
			if fi, err := fs.Stat(fsys, dir); err != nil || !fi.IsDir() {
				return nil // '**' matches directories only
			}
			entries, err := readDir(fsys, dir)
			if err != nil {
				return err
			}
			if len(segs) == 1 {
				// Trailing '**': the directory and everything below it.
				if dir != "." {
					out = append(out, dir)
				}
				for _, e := range entries {
					p := join(dir, e.Name())
					if e.IsDir() {
						if err := walk(p, segs); err != nil {
							return err
						}
					} else {
						out = append(out, p)
					}
				}
				return nil
			}
			if err := walk(dir, segs[1:]); err != nil {
				return err
			}
			for _, e := range entries {
				if e.IsDir() {
					if err := walk(join(dir, e.Name()), segs); err != nil {
						return err
					}
				}
			}
			return nil
		case !hasMeta(seg):
			p := join(dir, unescape(seg))
			fi, err := fs.Stat(fsys, p)
			if err != nil {
				if _, lerr := fs.Lstat(fsys, p); lerr == nil && len(segs) == 1 {
					out = append(out, p) // a dangling link: reported by the bounds check
				}
				return nil
			}
			if len(segs) == 1 || fi.IsDir() {
				return walk(p, segs[1:])
			}
			return nil
		default:
			entries, err := readDir(fsys, dir)
			if err != nil {
				return err
			}
			alts, _ := expandBraces(seg)
			for _, e := range entries {
				if !matchAny(alts, e.Name()) {
					continue
				}
				p := join(dir, e.Name())
				if len(segs) == 1 {
					out = append(out, p)
					continue
				}
				if fi, err := fs.Stat(fsys, p); err == nil && fi.IsDir() {
					if err := walk(p, segs[1:]); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	// doublestar globs each alternative of a {a,b} group separately and
	// merges what they match in lexical order: the paths matched up to the
	// last element holding a group are sorted, what lies below each of them
	// keeps the walk order.
	k := -1
	for i, s := range segs {
		if hasAlternatives(s) {
			k = i
		}
	}
	if k < 0 {
		if err := walk(".", segs); err != nil {
			return nil, err
		}
		return out, nil
	}
	if err := walk(".", segs[:k+1]); err != nil {
		return nil, err
	}
	prefixes := out
	slices.Sort(prefixes)
	prefixes = slices.Compact(prefixes)
	out = nil
	for _, p := range prefixes {
		if err := walk(p, segs[k+1:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hasAlternatives reports whether pattern has a {a,b} group.
func hasAlternatives(p string) bool { return hasUnescaped(p, '{') }

// hasUnescaped reports whether p has the byte b unescaped and outside a
// character class.
func hasUnescaped(p string, b byte) bool {
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == b:
			return true
		}
	}
	return false
}

// readDir lists dir in lexical order; nothing when dir is not a directory.
func readDir(fsys fs.FS, dir string) ([]fs.DirEntry, error) {
	if fi, err := fs.Stat(fsys, dir); err != nil || !fi.IsDir() {
		return nil, nil
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// hasMeta reports whether a path element needs matching rather than lookup.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[{\`) }

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// expandBraces expands {a,b} alternatives (nested ones too) into plain
// patterns.
func expandBraces(p string) ([]string, error) {
	start := -1
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '{':
			start = i
		}
		if start >= 0 {
			break
		}
	}
	if start < 0 {
		if hasUnescaped(p, '}') {
			return nil, errBadPattern // a '}' that closes nothing
		}
		return []string{p}, nil
	}
	depth := 0
	var alts []string
	last := start + 1
	for i := start; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			depth++
		case ',':
			if depth == 1 {
				alts = append(alts, p[last:i])
				last = i + 1
			}
		case '}':
			depth--
			if depth == 0 {
				alts = append(alts, p[last:i])
				var out []string
				for _, a := range alts {
					more, err := expandBraces(p[:start] + a + p[i+1:])
					if err != nil {
						return nil, err
					}
					out = append(out, more...)
				}
				return out, nil
			}
		}
	}
	return nil, errBadPattern
}

// validateSegment checks the class and escape syntax of one path element.
func validateSegment(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return errBadPattern
			}
			i++
		case '[':
			_, n, err := matchClass(p[i:], 'a')
			if err != nil {
				return err
			}
			i += n - 1
		}
	}
	return nil
}

func matchAny(pats []string, name string) bool {
	for _, p := range pats {
		if matchSegment(p, name) {
			return true
		}
	}
	return false
}

// matchSegment matches one brace-free path element pattern against name.
func matchSegment(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if matchSegment(p, s[i:]) {
					return true
				}
				if i < len(s) {
					_, w := decodeRune(s[i:])
					i += w - 1
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			_, w := decodeRune(s)
			p, s = p[1:], s[w:]
		case '[':
			if len(s) == 0 {
				return false
			}
			r, w := decodeRune(s)
			ok, n, err := matchClass(p, r)
			if err != nil || !ok {
				return false
			}
			p, s = p[n:], s[w:]
		case '\\':
			if len(p) < 2 || len(s) == 0 || s[0] != p[1] {
				return false
			}
			p, s = p[2:], s[1:]
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return len(s) == 0
}

// matchClass matches r against the class at the start of p ("[...]") and
// returns the length of the class.
func matchClass(p string, r rune) (bool, int, error) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for {
		if i >= len(p) {
			return false, 0, errBadPattern
		}
		if p[i] == ']' && !first {
			i++
			break
		}
		if p[i] == ']' && first {
			return false, 0, errBadPattern // empty class
		}
		first = false
		lo, w, err := classChar(p[i:])
		if err != nil {
			return false, 0, err
		}
		i += w
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi, w, err = classChar(p[i+1:])
			if err != nil {
				return false, 0, err
			}
			i += 1 + w
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	return matched != negate, i, nil
}

func classChar(p string) (rune, int, error) {
	if p[0] == '\\' {
		if len(p) < 2 {
			return 0, 0, errBadPattern
		}
		r, w := decodeRune(p[1:])
		return r, 1 + w, nil
	}
	r, w := decodeRune(p)
	return r, w, nil
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// relPath returns the slash path of target relative to the directory dir
// (both clean and relative to the same root).
func relPath(dir, target string) string {
	if dir == "." || dir == "" {
		return target
	}
	d := strings.Split(dir, "/")
	t := strings.Split(target, "/")
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(d)-i+len(t)-i)
	for range d[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return path.Join(parts...)
}
