package diff

import (
	"reflect"
	"strconv"
)

// RandomValue stands for a value that changes on every render of the same
// inputs (randAlphaNum, genCA, a checksum over them): not a change.
const RandomValue = "<changes on every render>"

// unstablePaths returns the paths of the leaves that differ between two
// renders of the same object with the same inputs.
func unstablePaths(a, b any) [][]string {
	var out [][]string
	var walk func(a, b any, p []string)
	walk = func(a, b any, p []string) {
		switch x := a.(type) {
		case map[string]any:
			y, ok := b.(map[string]any)
			if !ok {
				break
			}
			for k, v := range x {
				if w, ok := y[k]; ok {
					walk(v, w, append(p[:len(p):len(p)], k))
				}
			}
			return
		case []any:
			y, ok := b.([]any)
			if !ok || len(x) != len(y) {
				break
			}
			for i := range x {
				walk(x[i], y[i], append(p[:len(p):len(p)], strconv.Itoa(i)))
			}
			return
		}
		if !reflect.DeepEqual(a, b) {
			out = append(out, append([]string(nil), p...))
		}
	}
	walk(a, b, nil)
	return out
}

// maskPaths replaces, in place, the value at each path that exists in o.
func maskPaths(o map[string]any, paths [][]string) {
	for _, p := range paths {
		var cur any = o
		for i, k := range p {
			last := i == len(p)-1
			switch c := cur.(type) {
			case map[string]any:
				v, ok := c[k]
				if !ok {
					cur = nil
					break
				}
				if last {
					c[k] = RandomValue
				}
				cur = v
			case []any:
				n, err := strconv.Atoi(k)
				if err != nil || n < 0 || n >= len(c) {
					cur = nil
					break
				}
				if last {
					c[n] = RandomValue
				}
				cur = c[n]
			default:
				cur = nil
			}
			if cur == nil {
				break
			}
		}
	}
}

// Suspects are the changed Applications with a changed Secret: charts
// generate passwords and keys there (randAlphaNum, genCA), so the change may
// be a value that changes on every render. Rendering their head again (into
// App.Again) tells. A checksum/* annotation over such a Secret changes with
// it; one over unchanged ConfigMaps and Secrets is already left out.
func (r *Report) Suspects() []string {
	var out []string
	for _, a := range r.Apps {
		if a.Change != Changed {
			continue
		}
		for _, o := range a.Objects {
			if o.Change == Changed && o.APIVersion == "v1" && o.Kind == "Secret" {
				out = append(out, a.Name)
				break
			}
		}
	}
	return out
}
