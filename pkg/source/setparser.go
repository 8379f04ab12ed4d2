package source

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The --set syntax of Helm (helm pkg/strvals/parser.go), reimplemented on
// plain values so that Merge can tell which paths a parameter sets:
//
//	name1=value1,name2=value2   several assignments
//	a.b.c=v                     nested maps (created, or updated in place)
//	a[2]=v  a[0].b=v  a[0][1]=v list items (the list grows with nulls)
//	a={x,y}                     a list value
//	a\.b=v  a=x\,y              '\' escapes the next character
//
// Typed values for --set: true and false (any case) are booleans, null (any
// case) is null, a decimal integer not starting with 0 (or "0" itself) is an
// int64, anything else a string; --set-string keeps strings; --set-file
// stands for the file's content. As in Helm, a.b=v where a exists and is
// not a map (a[0]=v where a is not a list) is an error, at most 30 levels of
// names and list indexes up to 65536 are accepted.

type setKind int

const (
	setTyped setKind = iota
	setString
	setFile
)

const (
	maxSetIndex = 65536
	maxSetLevel = 30
)

var errNotList = errors.New("not a list")

type setParser struct {
	in      []rune
	pos     int
	kind    setKind
	content string // the file's content, for setFile
	layer   string
	origin  map[string]string
}

func (p *setParser) parse(data map[string]any) error {
	for {
		err := p.key(data, "", "", 0)
		if err == nil {
			continue
		}
		if err == io.EOF {
			return nil
		}
		return err
	}
}

// until reads up to (and consumes) one of the stop runes, unescaping '\';
// eof is true when the input ended first.
func (p *setParser) until(stop string) (text []rune, last rune, eof bool) {
	for p.pos < len(p.in) {
		r := p.in[p.pos]
		p.pos++
		switch {
		case strings.ContainsRune(stop, r):
			return text, r, false
		case r == '\\':
			if p.pos >= len(p.in) {
				return text, 0, true
			}
			text = append(text, p.in[p.pos])
			p.pos++
		default:
			text = append(text, r)
		}
	}
	return text, 0, true
}

// note records that the parameter set the value at path (the path of the
// map key, or of the list holding the item).
func (p *setParser) note(path string) {
	if path != "" {
		p.origin[path] = p.layer
	}
}

// key parses one name and what follows it into data. mapPath is the path
// of data when it is reachable through maps only; inList is the path of the
// list that holds data otherwise.
func (p *setParser) key(data map[string]any, mapPath, inList string, level int) error {
	k, last, eof := p.until("=[,.")
	name := string(k)
	at := func() string {
		if inList != "" {
			return inList
		}
		if name == "" {
			return ""
		}
		return joinPath(mapPath, name)
	}
	switch {
	case eof:
		if len(k) == 0 {
			return io.EOF
		}
		return fmt.Errorf("key %q has no value", name)
	case last == '[':
		i, err := p.index()
		if err != nil {
			return fmt.Errorf("error parsing index: %w", err)
		}
		list := []any{}
		if cur, ok := data[name]; ok {
			l, isList := cur.([]any)
			if !isList {
				return fmt.Errorf("unable to parse key: %q is %s, not a list", name, describeValue(cur))
			}
			list = l
		}
		list, err = p.listItem(list, i, at(), level)
		setKey(data, name, list)
		p.note(at())
		return err
	case last == '=':
		vl, err := p.valueList()
		switch {
		case err == nil:
			setKey(data, name, vl)
			p.note(at())
			return nil
		case err == io.EOF:
			setKey(data, name, "")
			p.note(at())
			return io.EOF
		case err == errNotList:
			rs, _ := p.value()
			setKey(data, name, p.read(rs))
			p.note(at())
			return nil
		default:
			return err
		}
	case last == ',':
		setKey(data, name, "")
		return fmt.Errorf("key %q has no value (cannot end with ,)", name)
	default: // '.'
		level++
		if level > maxSetLevel {
			return fmt.Errorf("value name nested level is greater than maximum supported nested level of %d", maxSetLevel)
		}
		inner := map[string]any{}
		if cur, ok := data[name]; ok {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return fmt.Errorf("unable to parse key: %q is %s, not a map", name, describeValue(cur))
			}
			inner = m
		}
		innerPath := ""
		if inList == "" && name != "" {
			innerPath = joinPath(mapPath, name)
			p.note(innerPath)
		}
		err := p.key(inner, innerPath, inList, level)
		if err == nil && len(inner) == 0 {
			return fmt.Errorf("key map %q has no value", name)
		}
		if len(inner) != 0 {
			setKey(data, name, inner)
		}
		return err
	}
}

func setKey(data map[string]any, name string, v any) {
	if name != "" {
		data[name] = v
	}
}

func describeValue(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

func (p *setParser) index() (int, error) {
	v, _, eof := p.until("]")
	if eof {
		return 0, io.EOF
	}
	return strconv.Atoi(string(v))
}

// listItem parses what follows "[i]" and sets item i of list.
func (p *setParser) listItem(list []any, i int, listPath string, level int) ([]any, error) {
	if i < 0 {
		return list, fmt.Errorf("negative %d index not allowed", i)
	}
	k, last, eof := p.until("[.=")
	switch {
	case len(k) > 0:
		return list, fmt.Errorf("unexpected data at end of array index: %q", string(k))
	case eof:
		return list, io.EOF
	case last == '=':
		vl, err := p.valueList()
		switch {
		case err == nil:
			return setIndex(list, i, vl)
		case err == io.EOF:
			return setIndex(list, i, "")
		case err == errNotList:
			rs, _ := p.value()
			return setIndex(list, i, p.read(rs))
		default:
			return list, err
		}
	case last == '[':
		next, err := p.index()
		if err != nil {
			return list, fmt.Errorf("error parsing index: %w", err)
		}
		var inner []any
		if i < len(list) && list[i] != nil {
			l, ok := list[i].([]any)
			if !ok {
				return list, fmt.Errorf("unable to parse key: item %d is %s, not a list", i, describeValue(list[i]))
			}
			inner = l
		}
		inner, err = p.listItem(inner, next, listPath, level)
		if err != nil {
			return list, err
		}
		return setIndex(list, i, inner)
	default: // '.'
		inner := map[string]any{}
		if i < len(list) {
			m, ok := list[i].(map[string]any)
			if !ok {
				m = map[string]any{}
				list[i] = m
			}
			inner = m
		}
		if err := p.key(inner, "", listPath, level); err != nil {
			return list, err
		}
		return setIndex(list, i, inner)
	}
}

func setIndex(list []any, i int, v any) ([]any, error) {
	if i < 0 {
		return list, fmt.Errorf("negative %d index not allowed", i)
	}
	if i > maxSetIndex {
		return list, fmt.Errorf("index of %d is greater than maximum supported index of %d", i, maxSetIndex)
	}
	if len(list) <= i {
		grown := make([]any, i+1)
		copy(grown, list)
		list = grown
	}
	list[i] = v
	return list, nil
}

// value reads a value up to the next ','.
func (p *setParser) value() ([]rune, bool) {
	v, _, eof := p.until(",")
	return v, eof
}

// valueList reads a {a,b,c} list; errNotList when the value is not one,
// io.EOF when there is no value at all.
func (p *setParser) valueList() ([]any, error) {
	if p.pos >= len(p.in) {
		return []any{}, io.EOF
	}
	if p.in[p.pos] != '{' {
		return []any{}, errNotList
	}
	p.pos++
	list := []any{}
	for {
		rs, last, eof := p.until(",}")
		switch {
		case eof:
			return list, errors.New("list must terminate with '}'")
		case last == '}':
			if p.pos < len(p.in) && p.in[p.pos] == ',' {
				p.pos++
			}
			return append(list, p.read(rs)), nil
		default:
			list = append(list, p.read(rs))
		}
	}
}

// read turns the runes of a value into the value set.
func (p *setParser) read(rs []rune) any {
	switch p.kind {
	case setString:
		return string(rs)
	case setFile:
		return p.content
	}
	s := string(rs)
	switch {
	case strings.EqualFold(s, "true"):
		return true
	case strings.EqualFold(s, "false"):
		return false
	case strings.EqualFold(s, "null"):
		return nil
	case s == "0":
		return int64(0)
	}
	if s != "" && s[0] != '0' {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}
