package generate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// postSelector converts a generator's post-selector. Argo CD uses its own
// copy of the label-selector conversion for these
// (applicationset/utils/selector.go) that checks keys but not values, since
// parameter values (URLs, paths) are rarely valid label values. apimachinery's
// conversion is used whenever the values are valid; otherwise the same
// semantics are evaluated without the value check.
func postSelector(ls *metav1.LabelSelector) (labels.Selector, func(map[string]string) bool, error) {
	if sel, err := metav1.LabelSelectorAsSelector(ls); err == nil {
		return sel, nil, nil
	}
	for k := range ls.MatchLabels {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, nil, fmt.Errorf("key %q: %s", k, strings.Join(errs, "; "))
		}
	}
	for _, r := range ls.MatchExpressions {
		if errs := validation.IsQualifiedName(r.Key); len(errs) > 0 {
			return nil, nil, fmt.Errorf("key %q: %s", r.Key, strings.Join(errs, "; "))
		}
		switch r.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				return nil, nil, fmt.Errorf("key %q: for 'in', 'notin' operators, values set can't be empty", r.Key)
			}
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			if len(r.Values) > 0 {
				return nil, nil, fmt.Errorf("key %q: values set must be empty for exists and does not exist", r.Key)
			}
		default:
			return nil, nil, fmt.Errorf("%q is not a valid label selector operator", r.Operator)
		}
	}
	match := func(set map[string]string) bool {
		for k, v := range ls.MatchLabels {
			if got, ok := set[k]; !ok || got != v {
				return false
			}
		}
		for _, r := range ls.MatchExpressions {
			v, ok := set[r.Key]
			switch r.Operator {
			case metav1.LabelSelectorOpIn:
				if !ok || !slices.Contains(r.Values, v) {
					return false
				}
			case metav1.LabelSelectorOpNotIn:
				if ok && slices.Contains(r.Values, v) {
					return false
				}
			case metav1.LabelSelectorOpExists:
				if !ok {
					return false
				}
			case metav1.LabelSelectorOpDoesNotExist:
				if ok {
					return false
				}
			}
		}
		return true
	}
	return nil, match, nil
}
