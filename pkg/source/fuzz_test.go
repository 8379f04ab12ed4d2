package source

import (
	"testing"
)

// FuzzValuesMerge: no values file, inline values or parameter may panic the merge that
// `hubctl values` shows (run with `make fuzz`). A merge that MergeChecked accepts is also
// what Merge returns.
func FuzzValuesMerge(f *testing.F) {
	f.Add("a: 1\nb: {c: [1, 2]}\n", "b: {c: null, d: x}\n", "b.c[1]", "3", false, "replicas: 1\n")
	f.Add("a: &x [*x]\n", "", "a", "{1,2}", false, "")
	f.Add("- 1\n", "a: b: c", "a[0]x", "1", true, "a: [1]\n")
	f.Add("a:\n  b\\.c: 1\n", "~", `a.b\.c`, "null", false, "a: {b.c: 2}\n")
	f.Add("x: {y: {z: 1}}\n", "x: 2\n", "x.y.z", "", true, "x: {y: {z: 0, w: 1}}\n")
	f.Add("", "", "a[99999999]", "1", false, "")
	f.Fuzz(func(t *testing.T, file1, file2, name, value string, forceString bool, chartValues string) {
		if len(file1)+len(file2)+len(chartValues) > 4096 || len(name)+len(value) > 256 {
			t.Skip()
		}
		in := &HelmInputs{
			ValueFiles: []NamedFile{{Name: "one.yaml", Data: []byte(file1)}, {Name: "two.yaml", Data: []byte(file2)}},
			Parameters: []Param{{Name: name, Value: value, ForceString: forceString}},
		}
		layers, err := in.Layers()
		if err != nil {
			return
		}
		chart := layer(t, "chart", "")
		if l, err := (&HelmInputs{ValueFiles: []NamedFile{{Name: "chart", Data: []byte(chartValues)}}}).Layers(); err == nil {
			chart = Layer{Name: "chart", Values: l[0].Values}
		}
		all := append([]Layer{chart}, layers...)
		merged, _ := Merge(all)
		if checked, _, err := MergeChecked(all); err == nil && len(checked) != len(merged) {
			t.Errorf("MergeChecked and Merge disagree on an accepted merge: %v vs %v", checked, merged)
		}
		_, _ = in.UserValues()
	})
}
