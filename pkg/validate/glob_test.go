package validate

import "testing"

// TestProjectMatching follows Argo CD's AppProject matching
// (pkg/apis/application/v1alpha1/app_project_types.go: globMatch,
// IsSourcePermitted, isDestinationMatched; util/glob: gobwas/glob).
func TestProjectMatching(t *testing.T) {
	p := project{}
	p.spec.SourceRepos = []string{"https://github.com/org/*", "https://charts.example.com/"}
	deny := project{}
	deny.spec.SourceRepos = []string{"https://github.com/org/*", "!https://github.com/org/secret"}
	// A deny entry refuses what it names and, as in Argo CD, counts as a
	// match for everything else.
	if sourcePermitted(deny, "https://github.com/org/secret") || !sourcePermitted(deny, "https://github.com/org/app") || !sourcePermitted(deny, "https://github.com/other/app") {
		t.Error("deny entry: want org/secret refused, org/app and other/app permitted")
	}
	for _, tc := range []struct {
		repo string
		want bool
	}{
		{"https://github.com/org/app.git", true},   // normalized: .git dropped
		{"HTTPS://GITHUB.COM/ORG/APP", true},       // normalized: lower case
		{"https://github.com/org/team/app", false}, // '*' does not cross '/'
		{"https://charts.example.com", true},       // trailing '/' ignored
		{"https://github.com/other/app", false},
	} {
		if got := sourcePermitted(p, tc.repo); got != tc.want {
			t.Errorf("sourcePermitted(%q) = %v, want %v", tc.repo, got, tc.want)
		}
	}
	type dest struct{ Server, Name, Namespace string }
	set := func(ds ...dest) project {
		var q project
		for _, d := range ds {
			q.spec.Destinations = append(q.spec.Destinations, struct {
				Server    string `json:"server"`
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			}{d.Server, d.Name, d.Namespace})
		}
		return q
	}
	for _, tc := range []struct {
		name                string
		p                   project
		cluster, server, ns string
		want                bool
	}{
		{"any", set(dest{Server: "*", Namespace: "*"}), "a", "https://a", "x", true},
		{"name glob", set(dest{Name: "eks-*", Namespace: "argocd"}), "eks-a", "https://a", "argocd", true},
		{"wrong namespace", set(dest{Name: "eks-*", Namespace: "argocd"}), "eks-a", "https://a", "default", false},
		{"server glob crosses '/' (no separator)", set(dest{Server: "https://*", Namespace: "*"}), "a", "https://a.example.com/x", "n", true},
		{"deny name", set(dest{Name: "*", Namespace: "*"}, dest{Name: "!prod-*", Namespace: "*"}), "prod-a", "https://p", "n", false},
		{"deny name, other cluster", set(dest{Name: "*", Namespace: "*"}, dest{Name: "!prod-*", Namespace: "*"}), "dev-a", "https://d", "n", true},
		{"deny namespace", set(dest{Server: "*", Namespace: "*"}, dest{Server: "*", Namespace: "!kube-system"}), "a", "https://a", "kube-system", false},
		{"no entry", set(), "a", "https://a", "n", false},
	} {
		if got := destinationPermitted(tc.p, tc.cluster, tc.server, tc.ns); got != tc.want {
			t.Errorf("%s: destinationPermitted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFloating(t *testing.T) {
	for v, want := range map[string]bool{"": true, "*": true, "1.2.*": true, "^1.2.0": true, ">=1.0.0 <2.0.0": true, "1.2": true, "1.2.3": false, "v1.2.3": false, "1.2.3-rc.1": false} {
		if got := floating(v); got != want {
			t.Errorf("floating(%q) = %v, want %v", v, got, want)
		}
	}
}
