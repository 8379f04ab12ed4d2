// Package tmpl renders the strings of an ApplicationSet template the way Argo
// CD's ApplicationSet controller does (applicationset/utils/utils.go Replace):
// fasttemplate `{{param}}` substitution by default, Go text/template with sprig
// and Argo CD's extra functions when goTemplate is true.
//
// Templates are compiled once per distinct string and executed many times; a
// compiled template is safe for concurrent use.
package tmpl

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"text/template"

	"github.com/valyala/fasttemplate"
)

// isTemplated mirrors upstream's `.*{{.*}}.*` check: a fasttemplate string is
// only rendered when some line holds `{{` followed by `}}`.
var isTemplated = regexp.MustCompile(`.*{{.*}}.*`)

// Options select the template engine.
type Options struct {
	GoTemplate        bool
	GoTemplateOptions []string
	// Limits of one execution (limits.go); zero fields take MaxOutput and MaxIterations.
	Limits Limits
}

// Template is one compiled template string.
type Template struct {
	src     string
	literal bool // renders to src whatever the params
	fast    *fasttemplate.Template
	gotmpl  *template.Template
	fastgo  *fastPlan
	loops   bool // gotmpl loops or recurses: run with an iteration counter
	limits  Limits
	counted sync.Pool // of *counted clones of gotmpl, when loops
}

// Source returns the template text.
func (t *Template) Source() string { return t.src }

// IsLiteral reports whether the template renders to its own text whatever
// the parameters are (no tags in fasttemplate mode, no actions in Go mode).
func (t *Template) IsLiteral() bool { return t.literal }

// Engine compiles template strings with one set of options and caches them.
type Engine struct {
	opts  Options
	base  *template.Template
	mu    sync.RWMutex
	cache map[string]*Template
}

// NewEngine returns an engine for the given options. The Go template options
// are validated here: an unknown option is an error (upstream panics and the
// reconcile fails).
func NewEngine(opts Options) (*Engine, error) {
	opts.Limits = opts.Limits.withDefaults()
	e := &Engine{opts: opts, cache: map[string]*Template{}}
	if opts.GoTemplate {
		base := template.New("base").Funcs(boundedFuncMap(opts.Limits))
		for _, o := range opts.GoTemplateOptions {
			if err := applyOption(base, o); err != nil {
				return nil, err
			}
		}
		e.base = base
	}
	return e, nil
}

func applyOption(t *template.Template, o string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid goTemplateOptions entry %q: %v", o, r)
		}
	}()
	t.Option(o)
	return nil
}

// GoTemplate reports whether the engine renders Go templates.
func (e *Engine) GoTemplate() bool { return e.opts.GoTemplate }

// Compile parses src (cached).
func (e *Engine) Compile(src string) (*Template, error) {
	e.mu.RLock()
	t, ok := e.cache[src]
	e.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := e.compile(src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.cache[src] = t
	e.mu.Unlock()
	return t, nil
}

func (e *Engine) compile(src string) (*Template, error) {
	t := &Template{src: src, limits: e.opts.Limits}
	if e.opts.GoTemplate {
		if !strings.Contains(src, "{{") {
			// text/template output equals the input when there is no action.
			t.literal = true
			return t, nil
		}
		c, err := e.base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.Parse(src); err != nil {
			return nil, fmt.Errorf("failed to parse template %s: %w", src, err)
		}
		t.gotmpl = c
		t.fastgo = compileFast(c.Tree)
		t.loops = instrument(c)
		return t, nil
	}
	if !isTemplated.MatchString(src) {
		t.literal = true
		return t, nil
	}
	ft, err := fasttemplate.NewTemplate(src, "{{", "}}")
	if err != nil {
		// Upstream Replace's message; callers add their own context (the
		// cluster generator's "failed to replace templated string: ").
		return nil, fmt.Errorf("invalid template: %w", err)
	}
	t.fast = ft
	return t, nil
}

// Render executes the template with params.
func (t *Template) Render(params map[string]any) (string, error) {
	switch {
	case t.literal:
		return t.src, nil
	case t.gotmpl != nil:
		if t.fastgo != nil {
			if s, ok := t.fastgo.exec(params); ok {
				return s, nil
			}
		}
		w := limitWriter{max: t.limits.MaxOutput}
		var err error
		if t.loops {
			err = executeCounted(&t.counted, t.gotmpl, &w, params, t.limits.MaxIterations)
		} else {
			err = t.gotmpl.Execute(&w, params)
		}
		if err != nil {
			return "", fmt.Errorf("failed to execute go template %s: %w", t.src, err)
		}
		return w.b.String(), nil
	default:
		return t.fast.ExecuteFuncString(func(w io.Writer, tag string) (int, error) {
			key := strings.TrimSpace(tag)
			if v, ok := params[key].(string); ok && key != "" {
				return io.WriteString(w, v)
			}
			return io.WriteString(w, "{{"+tag+"}}")
		}), nil
	}
}

// Replace compiles and renders src in one step.
func (e *Engine) Replace(src string, params map[string]any) (string, error) {
	t, err := e.Compile(src)
	if err != nil {
		return "", err
	}
	return t.Render(params)
}
