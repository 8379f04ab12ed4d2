package onboard_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// asToken builds a client of hub that authenticates with token only (no
// client certificate), as a hosting cluster's ESO does.
func asToken(t *testing.T, hub *kube.Cluster, token string) kubernetes.Interface {
	t.Helper()
	cfg := rest.AnonymousClientConfig(hub.Config)
	cfg.BearerToken = token
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientSecretAccess checks, against a real kube-apiserver with RBAC,
// that a hosting cluster of client A reads client A's Secrets on the hub and
// is refused (403) everything else. The SelfSubjectRulesReview check is what
// ESO's kubernetes provider does to validate a SecretStore (provider docs:
// "checks if you have read access for secrets in that namespace using
// SelfSubjectRulesReview and will fallback to SelfSubjectAccessReview").
func TestClientSecretAccess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "hub", "hosting")
	hub, hosting := env.Cluster("hub"), env.Cluster("hosting")
	for _, cl := range []string{"clientA", "clientB"} {
		if _, err := hubconfig.Set(ctx, hub.Client, cl, "grafana-admin", map[string][]byte{"admin-password": []byte("pw-" + cl)}); err != nil {
			t.Fatal(err)
		}
	}

	const cluster = "eks-develop-clientA-services"
	acc, err := onboard.EnsureClientSecretAccess(ctx, hub.Client, cluster, "clientA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Namespace != "client-clienta" || acc.ServiceAccount != "eso-eks-develop-clienta-services" || acc.Token == "" {
		t.Fatalf("access %s %s", acc.Namespace, acc.ServiceAccount)
	}
	if left := time.Until(acc.ExpiresAt); left <= 0 || left > time.Hour+time.Minute {
		t.Errorf("token expires in %s, want at most 1h", left)
	}
	// Idempotent: a second call succeeds and both tokens work.
	acc2, err := onboard.EnsureClientSecretAccess(ctx, hub.Client, cluster, "clientA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rbs, _ := hub.Client.RbacV1().RoleBindings("client-clienta").List(ctx, metav1.ListOptions{}); len(rbs.Items) != 1 {
		t.Errorf("%d role bindings after two calls", len(rbs.Items))
	}

	for i, tok := range []string{acc.Token, acc2.Token} {
		eso := asToken(t, hub, tok)
		s, err := eso.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
		if err != nil || string(s.Data["admin-password"]) != "pw-clientA" {
			t.Fatalf("token %d: reading its own client's Secret: %v", i, err)
		}
		if _, err := eso.CoreV1().Secrets("client-clienta").List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("token %d: listing its own client's Secrets: %v", i, err)
		}
		if _, err := eso.CoreV1().Secrets("client-clientb").Get(ctx, "grafana-admin", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("token %d: reading client B's Secret: %v, want Forbidden", i, err)
		}
		if _, err := eso.CoreV1().Secrets("client-clientb").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("token %d: listing client B's Secrets: %v, want Forbidden", i, err)
		}
		if _, err := eso.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("token %d: listing Secrets cluster-wide: %v, want Forbidden", i, err)
		}
		if _, err := eso.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("token %d: listing namespaces: %v, want Forbidden", i, err)
		}
		w := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "planted"}, StringData: map[string]string{"k": "v"}}
		if _, err := eso.CoreV1().Secrets("client-clienta").Create(ctx, w, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("token %d: writing a Secret: %v, want Forbidden", i, err)
		}
		rr, err := eso.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{
			Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "client-clienta"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token %d: SelfSubjectRulesReview: %v", i, err)
		}
		if !rulesAllow(rr.Status.ResourceRules, "secrets", "get", "list", "watch") {
			t.Errorf("token %d: SelfSubjectRulesReview does not show secrets get/list/watch: %+v", i, rr.Status.ResourceRules)
		}
		ar, err := eso.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "client-clientb", Verb: "get", Resource: "secrets"}},
		}, metav1.CreateOptions{})
		if err != nil || ar.Status.Allowed {
			t.Errorf("token %d: SelfSubjectAccessReview for client B: %v allowed=%v", i, err, ar != nil && ar.Status.Allowed)
		}
	}

	// A cluster of client B gets a ServiceAccount in client B's namespace only.
	accB, err := onboard.EnsureClientSecretAccess(ctx, hub.Client, "eks-develop-clientB-services", "clientB", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asToken(t, hub, accB.Token).CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("client B's token reading client A: %v, want Forbidden", err)
	}

	// Placing the token in the hosting cluster, twice.
	for range 2 {
		if err := onboard.PlaceHubToken(ctx, hosting.Client, acc.Token, hub.Config.Host, hub.Config.CAData); err != nil {
			t.Fatal(err)
		}
	}
	placed, err := hosting.Client.CoreV1().Secrets(onboard.ESONamespace).Get(ctx, onboard.HubCredentialsSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(placed.Data["token"]) != acc.Token || string(placed.Data["server"]) != hub.Config.Host || len(placed.Data["ca.crt"]) == 0 || placed.Labels[hubconfig.ManagedByLabel] != hubconfig.ManagedBy {
		t.Errorf("hub-credentials: keys %d, labels %v", len(placed.Data), placed.Labels)
	}
	// What a SecretStore built from the placed Secret can do: read client A.
	cfg := &rest.Config{Host: string(placed.Data["server"]), BearerToken: string(placed.Data["token"]), TLSClientConfig: rest.TLSClientConfig{CAData: placed.Data["ca.crt"]}}
	viaPlaced, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viaPlaced.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{}); err != nil {
		t.Errorf("with the placed credentials: %v", err)
	}
	// Rotation: a new token replaces the old one.
	if err := onboard.PlaceHubToken(ctx, hosting.Client, acc2.Token, hub.Config.Host, hub.Config.CAData); err != nil {
		t.Fatal(err)
	}
	placed, _ = hosting.Client.CoreV1().Secrets(onboard.ESONamespace).Get(ctx, onboard.HubCredentialsSecret, metav1.GetOptions{})
	if string(placed.Data["token"]) != acc2.Token {
		t.Error("hub-credentials not updated with the new token")
	}
}

func rulesAllow(rules []authorizationv1.ResourceRule, resource string, verbs ...string) bool {
	for _, r := range rules {
		if slices.Contains(r.Resources, resource) && slices.Contains(r.APIGroups, "") {
			ok := true
			for _, v := range verbs {
				ok = ok && slices.Contains(r.Verbs, v)
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func TestClientSecretAccessRefusesForeignObjects(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-a"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: onboard.ESOSecretReaderRole, Namespace: "client-b"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}},
	)
	if _, err := onboard.EnsureClientSecretAccess(ctx, c, "c1", "a", time.Hour); !errors.Is(err, onboard.ErrNotHubctlManaged) || !strings.Contains(err.Error(), "client-a/eso-c1") {
		t.Errorf("foreign ServiceAccount: %v", err)
	}
	if _, err := onboard.EnsureClientSecretAccess(ctx, c, "c2", "b", time.Hour); !errors.Is(err, onboard.ErrNotHubctlManaged) {
		t.Errorf("foreign Role: %v", err)
	}
	r, _ := c.RbacV1().Roles("client-b").Get(ctx, onboard.ESOSecretReaderRole, metav1.GetOptions{})
	if r.Rules[0].Verbs[0] != "*" {
		t.Error("foreign Role changed")
	}
	if _, err := onboard.EnsureClientSecretAccess(ctx, c, "c3", "a", time.Minute); err == nil {
		t.Error("ttl under 10 minutes: no error")
	}
	if _, err := onboard.EnsureClientSecretAccess(ctx, c, "Bad_Name", "a", time.Hour); err == nil {
		t.Error("bad cluster name: no error")
	}

	target := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: onboard.HubCredentialsSecret, Namespace: onboard.ESONamespace}, Data: map[string][]byte{"token": []byte("theirs")}})
	err := onboard.PlaceHubToken(ctx, target, "tok-value-secret", "https://hub", nil)
	if !errors.Is(err, onboard.ErrNotHubctlManaged) || strings.Contains(err.Error(), "tok-value-secret") {
		t.Errorf("foreign hub-credentials: %v", err)
	}
	s, _ := target.CoreV1().Secrets(onboard.ESONamespace).Get(ctx, onboard.HubCredentialsSecret, metav1.GetOptions{})
	if string(s.Data["token"]) != "theirs" {
		t.Error("foreign hub-credentials changed")
	}
	if err := onboard.PlaceHubToken(ctx, target, "", "https://hub", nil); err == nil {
		t.Error("empty token: no error")
	}
}

// TestClientSecretAccessRepairsOwnObjects: hubctl's own Role and
// RoleBinding, edited by hand, are put back (roleRef, immutable, by
// replacing the binding).
func TestClientSecretAccessRepairsOwnObjects(t *testing.T) {
	ctx := context.Background()
	own := map[string]string{hubconfig.ManagedByLabel: hubconfig.ManagedBy}
	c := fake.NewClientset(
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: onboard.ESOSecretReaderRole, Namespace: "client-a", Labels: own},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-a", Labels: own},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "system:authenticated"}}},
	)
	// the fake has no TokenRequest: answer it
	c.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{Token: "t"}}, nil
	})
	if _, err := onboard.EnsureClientSecretAccess(ctx, c, "c1", "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	r, _ := c.RbacV1().Roles("client-a").Get(ctx, onboard.ESOSecretReaderRole, metav1.GetOptions{})
	if !slices.Equal(r.Rules[0].Verbs, []string{"get", "list", "watch"}) {
		t.Errorf("role rules %+v", r.Rules)
	}
	rb, _ := c.RbacV1().RoleBindings("client-a").Get(ctx, "eso-c1", metav1.GetOptions{})
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != onboard.ESOSecretReaderRole || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "eso-c1" {
		t.Errorf("binding %+v %+v", rb.RoleRef, rb.Subjects)
	}
}

// TestRevokeLeavesForeignObjects: remove --revoke deletes only hubctl's eso-<cluster>
// ServiceAccount and RoleBinding and hubctl's hub-credentials; same-named objects without
// hubctl's label stay (a foreign hub-credentials is an error, not a deletion).
func TestRevokeLeavesForeignObjects(t *testing.T) {
	ctx := context.Background()
	own := map[string]string{hubconfig.ManagedByLabel: hubconfig.ManagedBy, "gitops-hub.io/cluster": "c1"}
	hub := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-a", Labels: own}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-a", Labels: own}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-b"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "eso-c1", Namespace: "client-b"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "eso-c2", Namespace: "client-a", Labels: map[string]string{hubconfig.ManagedByLabel: hubconfig.ManagedBy, "gitops-hub.io/cluster": "c2"}}},
	)
	deleted, err := onboard.RevokeClientSecretAccess(ctx, hub, "c1")
	if err != nil || !slices.Equal(deleted, []string{"RoleBinding client-a/eso-c1", "ServiceAccount client-a/eso-c1"}) {
		t.Errorf("deleted %v, %v", deleted, err)
	}
	for _, ns := range []string{"client-b"} {
		if _, err := hub.CoreV1().ServiceAccounts(ns).Get(ctx, "eso-c1", metav1.GetOptions{}); err != nil {
			t.Errorf("foreign ServiceAccount %s/eso-c1: %v", ns, err)
		}
		if _, err := hub.RbacV1().RoleBindings(ns).Get(ctx, "eso-c1", metav1.GetOptions{}); err != nil {
			t.Errorf("foreign RoleBinding %s/eso-c1: %v", ns, err)
		}
	}
	if _, err := hub.CoreV1().ServiceAccounts("client-a").Get(ctx, "eso-c2", metav1.GetOptions{}); err != nil {
		t.Errorf("another cluster's ServiceAccount: %v", err)
	}

	foreign := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: onboard.HubCredentialsSecret, Namespace: onboard.ESONamespace}})
	if removed, err := onboard.RemoveHubToken(ctx, foreign); removed || !errors.Is(err, onboard.ErrNotHubctlManaged) {
		t.Errorf("foreign hub-credentials: removed %v, %v", removed, err)
	}
	mine := fake.NewClientset()
	if err := onboard.PlaceHubToken(ctx, mine, "tok", "https://hub", []byte("CA")); err != nil {
		t.Fatal(err)
	}
	if removed, err := onboard.RemoveHubToken(ctx, mine); !removed || err != nil {
		t.Errorf("own hub-credentials: removed %v, %v", removed, err)
	}
	if removed, err := onboard.RemoveHubToken(ctx, mine); removed || err != nil {
		t.Errorf("absent hub-credentials: removed %v, %v", removed, err)
	}
}
