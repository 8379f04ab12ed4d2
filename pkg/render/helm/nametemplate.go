package helm

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"
)

// refusedNameFuncs are the sprig functions that read hubctl's environment or
// reach the network. Helm evaluates --name-template with all of sprig
// (pkg/action/install.go TemplateName: sprig.TxtFuncMap()), so in Argo CD's
// repo-server `{{ env "X" }}` in helm.releaseName reads the repo-server's
// environment and getHostByName sends a DNS query. hubctl runs on laptops and
// in CI with credentials in its environment: these functions are refused.
// They are the same three that Argo CD removes from sprig for ApplicationSet
// goTemplates (applicationset/utils/utils.go); no other sprig v3 function
// reads the environment, a file or the network.
var refusedNameFuncs = map[string]string{
	"env":           "it reads hubctl's environment variables",
	"expandenv":     "it reads hubctl's environment variables",
	"getHostByName": "it sends a DNS query",
}

// RefusedNameTemplateFuncs lists, sorted, the sprig functions refused in
// helm.releaseName.
func RefusedNameTemplateFuncs() []string {
	names := make([]string, 0, len(refusedNameFuncs))
	for n := range refusedNameFuncs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// RefusedFuncError is returned when a name template uses a refused function.
type RefusedFuncError struct {
	Func, Reason string
}

func (e *RefusedFuncError) Error() string {
	return fmt.Sprintf("function %q is refused: %s (hubctl refuses %s in release names)",
		e.Func, e.Reason, strings.Join(RefusedNameTemplateFuncs(), ", "))
}

// nameFuncMap is Helm's name-template function map (sprig.TxtFuncMap) with
// every refused function replaced by one that fails, so that a template
// using one still parses and the failure is ours, not "function not
// defined".
func nameFuncMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	for name, reason := range refusedNameFuncs {
		err := &RefusedFuncError{Func: name, Reason: reason}
		f[name] = func(...any) (string, error) { return "", err }
	}
	return f
}

// TemplateName renders a release name template as Helm's
// action.TemplateName does (text/template with sprig, executed with no
// data), except that a template that mentions env, expandenv or
// getHostByName anywhere (even in a branch that would not run) is an error
// wrapping *RefusedFuncError, and nothing is evaluated. For every other
// template the result, and the error, are Helm's.
func TemplateName(nameTemplate string) (string, error) {
	if nameTemplate == "" {
		return "", nil
	}
	t, err := template.New("name-template").Funcs(nameFuncMap()).Parse(nameTemplate)
	if err != nil {
		return "", err
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if name := refusedIn(tt.Tree.Root); name != "" {
			return "", &RefusedFuncError{Func: name, Reason: refusedNameFuncs[name]}
		}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return "", err
	}
	return b.String(), nil
}

// refusedIn returns the first refused function named in the tree under n.
func refusedIn(n parse.Node) string {
	switch n := n.(type) {
	case nil:
		return ""
	case *parse.IdentifierNode:
		if _, ok := refusedNameFuncs[n.Ident]; ok {
			return n.Ident
		}
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if r := refusedIn(c); r != "" {
				return r
			}
		}
	case *parse.ActionNode:
		return refusedIn(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if r := refusedIn(c); r != "" {
				return r
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if r := refusedIn(a); r != "" {
				return r
			}
		}
	case *parse.ChainNode:
		return refusedIn(n.Node)
	case *parse.IfNode:
		return refusedInBranch(&n.BranchNode)
	case *parse.RangeNode:
		return refusedInBranch(&n.BranchNode)
	case *parse.WithNode:
		return refusedInBranch(&n.BranchNode)
	case *parse.TemplateNode:
		return refusedIn(n.Pipe)
	}
	return ""
}

func refusedInBranch(b *parse.BranchNode) string {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if r := refusedIn(n); r != "" {
			return r
		}
	}
	return ""
}
