package onboard

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// allows reports whether one of rules allows verb on group/resource, as the RBAC authorizer
// matches resource rules (a "*" matches any group, resource or verb).
func allows(rules []rbacv1.PolicyRule, verb, group, resource string) bool {
	match := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	for _, r := range rules {
		if len(r.NonResourceURLs) == 0 && match(r.APIGroups, group) && match(r.Resources, resource) && match(r.Verbs, verb) {
			return true
		}
	}
	return false
}

// `hubctl status --clients` reads the client's Argo CD Applications in each hosting cluster
// with the credentials `cluster add` (and `cluster rotate`, which applies the same role) gave
// the hub: the least-privilege role must let it get and list applications.argoproj.io, both
// cluster-wide and namespace-scoped (where the Role of the client's Argo CD namespace does).
// TestLiveStatusClients (pkg/action) checks it against a real RBAC authorizer.
func TestAccessRulesReadApplications(t *testing.T) {
	for _, clusterScoped := range []bool{true, false} {
		rules := AccessRules(clusterScoped)
		for _, verb := range []string{"get", "list"} {
			if !allows(rules, verb, "argoproj.io", "applications") {
				t.Errorf("AccessRules(%v) do not allow %s applications.argoproj.io", clusterScoped, verb)
			}
		}
		// Still not cluster-admin: no impersonation.
		if allows(rules, "impersonate", "", "users") {
			t.Errorf("AccessRules(%v) allow impersonation", clusterScoped)
		}
	}
}
