package tmpl

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Limits of one goTemplate execution (README "Limits"). They are far above any real
// ApplicationSet template and keep a hostile one (sprig `until 500000000`, nested `range`,
// doubling a string in a loop, printing a self-referencing dict) from exhausting memory or
// spinning the CPU:
//
//   - MaxOutput bounds the rendered string and every value a template function returns
//     (strings by their bytes, lists and maps by their elements and contents). A Kubernetes
//     object cannot exceed etcd's 1.5 MiB anyway.
//   - MaxIterations bounds the `range` iterations plus `template` invocations of one
//     execution: every loop or recursion passes a check that counts them.
//
// Functions that allocate from a count (until, untilStep, seq, repeat, indent, nindent,
// randAlpha & co, replace) are checked before they run; every other function's result is
// checked when it returns. Within the limits the output is Argo CD's, byte for byte.
const (
	MaxOutput     = 2 << 20
	MaxIterations = 100_000
)

// Limits override MaxOutput and MaxIterations for one Engine (tests); zero fields take them.
type Limits struct {
	MaxOutput     int
	MaxIterations int
}

func (l Limits) withDefaults() Limits {
	if l.MaxOutput <= 0 {
		l.MaxOutput = MaxOutput
	}
	if l.MaxIterations <= 0 {
		l.MaxIterations = MaxIterations
	}
	return l
}

// ErrLimit marks an execution stopped by MaxOutput or MaxIterations.
var ErrLimit = errors.New("hubctl's template limit")

func errOutput(what string, limit int) error {
	return fmt.Errorf("%w: %s exceeds %s", ErrLimit, what, formatSize(int64(limit)))
}

// formatSize writes n as a Kubernetes quantity (64Mi), as hubctl.yaml and the flags take it.
func formatSize(n int64) string { return resource.NewQuantity(n, resource.BinarySI).String() }

// limitWriter fails a write past max bytes; text/template then stops executing.
type limitWriter struct {
	b   strings.Builder
	max int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, errOutput("the rendered template", w.max)
	}
	return w.b.Write(p)
}

// tickFunc is the name of the counting function put at the start of every `range` body and
// every template of a Go template that loops or recurses. It prints nothing.
const tickFunc = "hubctlLoopLimit"

func noTick() string { return "" }

// tickNode is an action calling tickFunc, parsed once.
var tickNode = func() parse.Node {
	t := template.Must(template.New("hubctl-loop-limit").Funcs(template.FuncMap{tickFunc: noTick}).Parse("{{" + tickFunc + "}}"))
	return t.Tree.Root.Nodes[0]
}()

// instrument inserts tickNode in every loop and template body of t's namespace and reports
// whether it did (the template loops or recurses).
func instrument(t *template.Template) bool {
	loops := false
	for _, tt := range t.Templates() {
		if tt.Tree != nil && hasLoop(tt.Tree.Root) {
			loops = true
		}
	}
	if !loops {
		return false
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		insertTicks(tt.Tree.Root)
		tt.Tree.Root.Nodes = append([]parse.Node{tickNode}, tt.Tree.Root.Nodes...)
	}
	return true
}

func hasLoop(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if hasLoop(c) {
				return true
			}
		}
	case *parse.RangeNode, *parse.TemplateNode:
		return true
	case *parse.IfNode:
		return hasLoop(n.List) || hasLoop(n.ElseList)
	case *parse.WithNode:
		return hasLoop(n.List) || hasLoop(n.ElseList)
	}
	return false
}

func insertTicks(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			insertTicks(c)
		}
	case *parse.RangeNode:
		insertTicks(n.List)
		insertTicks(n.ElseList)
		if n.List != nil {
			n.List.Nodes = append([]parse.Node{tickNode}, n.List.Nodes...)
		}
	case *parse.IfNode:
		insertTicks(n.List)
		insertTicks(n.ElseList)
	case *parse.WithNode:
		insertTicks(n.List)
		insertTicks(n.ElseList)
	}
}

// counted is a clone of a looping template whose tickFunc counts into n. Clones are pooled
// per Template (cloning costs more than most executions) and used by one execution at a time.
type counted struct {
	t *template.Template
	n int
}

// executeCounted runs a template that loops with a fresh iteration counter.
func executeCounted(pool *sync.Pool, t *template.Template, w *limitWriter, data any, limit int) error {
	c, _ := pool.Get().(*counted)
	if c == nil {
		clone, err := t.Clone()
		if err != nil {
			return err
		}
		c = &counted{t: clone}
		c.t.Funcs(template.FuncMap{tickFunc: func() (string, error) {
			c.n++
			if c.n > limit {
				return "", fmt.Errorf("%w: more than %d range iterations and template calls in one template", ErrLimit, limit)
			}
			return "", nil
		}})
	}
	c.n = 0
	err := c.t.Execute(w, data)
	pool.Put(c)
	return err
}

// boundedFuncs wraps every function of f: pre-checks for those that allocate from a count,
// a size check of every result. The wrappers keep each function's exact signature, so
// text/template converts arguments and reports errors as for the original.
func boundedFuncs(f template.FuncMap, limit int) template.FuncMap {
	out := make(template.FuncMap, len(f))
	for name, fn := range f {
		out[name] = bound(name, fn, preChecks[name], limit)
	}
	return out
}

func bound(name string, fn any, pre func(int, []reflect.Value) error, limit int) any {
	if pre == nil {
		if f := boundFast(name, fn, limit); f != nil {
			return f
		}
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	return reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		if pre != nil {
			if err := pre(limit, args); err != nil {
				panic(err) // text/template reports it as "error calling <name>: ..."
			}
		}
		var out []reflect.Value
		if t.IsVariadic() {
			out = v.CallSlice(args)
		} else {
			out = v.Call(args)
		}
		if len(out) > 0 && (len(out) == 1 || out[1].IsNil()) && sizeOf(out[0], limit) > limit {
			panic(errOutput("the result of "+name, limit))
		}
		return out
	}).Interface()
}

// boundFast wraps the most common signatures without reflection (same checks as bound).
func boundFast(name string, fn any, limit int) any {
	str := func(s string) string {
		if len(s) > limit {
			panic(errOutput("the result of "+name, limit))
		}
		return s
	}
	switch f := fn.(type) {
	case func(string) string:
		return func(a string) string { return str(f(a)) }
	case func(string, string) string:
		return func(a, b string) string { return str(f(a, b)) }
	case func(...any) string:
		return func(a ...any) string { return str(f(a...)) }
	case func(string, ...any) string:
		return func(a string, b ...any) string { return str(f(a, b...)) }
	case func(any) string:
		return func(a any) string { return str(f(a)) }
	case func(string, any) string:
		return func(a string, b any) string { return str(f(a, b)) }
	case func(int, string) string:
		return func(a int, b string) string { return str(f(a, b)) }
	case func(any) bool, func(any, any) bool, func(...any) bool, func(string, string) bool:
		return fn // a bool is one unit
	}
	return nil
}

// sizeOf estimates the printed size of v, stopping past limit: bytes of strings, one per
// scalar, one per element plus its contents for lists and maps (shared or cyclic contents
// count each time they are reached, as printing would).
func sizeOf(v reflect.Value, limit int) int {
	n := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if n > limit || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.String:
			n += v.Len()
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				n += v.Len()
				return
			}
			for i := 0; i < v.Len() && n <= limit; i++ {
				n++
				walk(v.Index(i))
			}
		case reflect.Map:
			it := v.MapRange()
			for n <= limit && it.Next() {
				n++
				walk(it.Key())
				walk(it.Value())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField() && n <= limit; i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		default:
			n++
		}
	}
	walk(v)
	return n
}

// preChecks bound the functions that allocate from a count before they run.
var preChecks = map[string]func(int, []reflect.Value) error{
	"until": func(l int, a []reflect.Value) error { return checkCount("until", toInt(a[0]), l) },
	"untilStep": func(l int, a []reflect.Value) error {
		start, stop, step := toInt(a[0]), toInt(a[1]), toInt(a[2])
		if step == 0 {
			return nil
		}
		return checkCount("untilStep", (stop-start)/step, l)
	},
	"seq": func(l int, a []reflect.Value) error {
		// seq [first [incr]] last: the count is at most the largest distance between arguments.
		if len(a) == 0 {
			return nil
		}
		ints := a[len(a)-1]
		var lo, hi int64
		for i := 0; i < ints.Len(); i++ {
			x := toInt(ints.Index(i))
			lo, hi = min(lo, x), max(hi, x)
		}
		return checkCount("seq", hi-lo, l)
	},
	"repeat": func(l int, a []reflect.Value) error {
		return checkBytes("repeat", toInt(a[0]), int64(a[1].Len()), l)
	},
	"indent":       indentCheck("indent"),
	"nindent":      indentCheck("nindent"),
	"randAlphaNum": countArg("randAlphaNum"),
	"randAlpha":    countArg("randAlpha"),
	"randNumeric":  countArg("randNumeric"),
	"randAscii":    countArg("randAscii"),
	"randBytes":    countArg("randBytes"),
	"replace": func(l int, a []reflect.Value) error {
		old, repl, src := a[0].String(), a[1].String(), a[2].String()
		n := int64(len(src) + 1)
		if old != "" {
			n = int64(strings.Count(src, old))
		}
		return checkBytes("replace", n, int64(len(repl))+1, l)
	},
}

func indentCheck(name string) func(int, []reflect.Value) error {
	return func(l int, a []reflect.Value) error {
		s := a[1].String()
		return checkBytes(name, toInt(a[0]), int64(strings.Count(s, "\n"))+1, l)
	}
}

func countArg(name string) func(int, []reflect.Value) error {
	return func(l int, a []reflect.Value) error { return checkCount(name, toInt(a[0]), l) }
}

func checkCount(name string, n int64, limit int) error {
	if n > int64(limit) || n < -int64(limit) {
		return errOutput(fmt.Sprintf("%s of %d elements", name, n), limit)
	}
	return nil
}

func checkBytes(name string, count, size int64, limit int) error {
	if count > 0 && size > 0 && count > int64(limit)/size {
		return errOutput("the result of "+name, limit)
	}
	return nil
}

// toInt reads an integer argument of whatever type the function declares (sprig uses int,
// and interface{} converted with cast).
func toInt(v reflect.Value) int64 {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > 1<<62 {
			return 1 << 62
		}
		return int64(v.Uint())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f > 1<<62 {
			return 1 << 62
		}
		if f < -(1 << 62) {
			return -(1 << 62)
		}
		return int64(f)
	case reflect.String:
		var n int64
		if _, err := fmt.Sscan(v.String(), &n); err == nil {
			return n
		}
	}
	return 0
}
