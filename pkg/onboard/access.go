package onboard

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// Names of what GrantAccess creates in a target cluster. Each credential generation N has its
// own ServiceAccount hubctl-argocd-gN and binding(s) hubctl-argocd-gN; the role is shared.
//
// Why a ServiceAccount per generation: a TokenRequest token cannot be revoked by itself; it
// stays valid until it expires or until the ServiceAccount it names is deleted (the apiserver
// checks the ServiceAccount's uid in the token). Rotation therefore makes a new ServiceAccount,
// mints its token, stores it, and deletes the previous ServiceAccount: that revokes every
// token of the previous generation at once, without touching the new one.
const (
	AccessPrefix = "hubctl-argocd"
	// AccessRoleName is the ClusterRole (or, namespace-scoped, the Role in each namespace).
	AccessRoleName = AccessPrefix
	// DefaultTokenTTL is the lifetime asked for a token (the apiserver may cap it with
	// --service-account-max-token-expiration; the real expiry is the token's exp claim).
	DefaultTokenTTL = 90 * 24 * time.Hour
)

// AccessName is the ServiceAccount and binding name of a generation.
func AccessName(generation int) string { return fmt.Sprintf("%s-g%d", AccessPrefix, generation) }

// AccessRules are the rules of the role Argo CD gets in a target cluster. They are the least
// that deploying cluster addons needs, not cluster-admin (what `argocd cluster add` grants):
//   - every resource and subresource, with the verbs of a deployer (read, watch, create,
//     update, patch, delete); no impersonation, no approving or signing of
//     CertificateSigningRequests, no writes to non-resource URLs;
//   - escalate and bind on (Cluster)Roles: charts ship their own RBAC, often with rules a
//     deployer does not hold itself (verbs "*"), which the apiserver refuses without them;
//   - GET on the discovery and version endpoints.
//
// clusterScoped false gives the rules of a namespace-scoped Role (no ClusterRoles, no
// non-resource URLs).
func AccessRules(clusterScoped bool) []rbacv1.PolicyRule {
	rbacRes := []string{"roles"}
	if clusterScoped {
		rbacRes = append(rbacRes, "clusterroles")
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
		{APIGroups: []string{rbacv1.GroupName}, Resources: rbacRes, Verbs: []string{"escalate", "bind"}},
	}
	if clusterScoped {
		rules = append(rules, rbacv1.PolicyRule{NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/version", "/openapi", "/openapi/*", "/healthz", "/livez", "/readyz"}, Verbs: []string{"get"}})
	}
	return rules
}

// AccessOptions describe one generation of Argo CD's access to a target cluster.
type AccessOptions struct {
	// Cluster is the registry's cluster name; it labels everything created.
	Cluster string
	// Namespaces, when set, limit the access to these namespaces (a Role and RoleBinding in
	// each; the ServiceAccount lives in the first). Empty: cluster-wide (the ServiceAccount in
	// kube-system).
	Namespaces []string
	// Generation is the credential generation (>= 1).
	Generation int
	// TokenTTL is the token lifetime asked for (default DefaultTokenTTL).
	TokenTTL time.Duration
}

// ServiceAccountNamespace is where the generation's ServiceAccount lives.
func (o AccessOptions) ServiceAccountNamespace() string {
	if len(o.Namespaces) > 0 {
		return o.Namespaces[0]
	}
	return metav1.NamespaceSystem
}

// Grant is one generation's access: the ServiceAccount and its token.
type Grant struct {
	ServiceAccount string // <namespace>/<name>
	Token          string
	Expires        time.Time
}

func (o AccessOptions) labels() map[string]string {
	return map[string]string{
		conventions.ManagedByLabel:  conventions.ManagedBy,
		conventions.ClusterLabel:    labelValue(o.Cluster),
		conventions.GenerationLabel: strconv.Itoa(o.Generation),
	}
}

// labelValue makes a cluster name a valid label value (names are at most 63 characters of
// [A-Za-z0-9-_.] already in the registry; longer ones are cut).
func labelValue(s string) string {
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-_.")
}

// GrantAccess applies, in target, the generation's ServiceAccount, the role and the
// binding(s) (server-side apply: concurrent runs of one generation converge), then mints a
// TokenRequest token with the asked lifetime. It never creates a never-expiring token Secret.
// Errors name the target and the object.
func GrantAccess(ctx context.Context, target *kube.Cluster, o AccessOptions) (*Grant, error) {
	if o.Generation < 1 {
		return nil, fmt.Errorf("credential generation %d: want >= 1", o.Generation)
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.TokenTTL < 10*time.Minute {
		return nil, fmt.Errorf("token lifetime %s: the apiserver's minimum is 10m", o.TokenTTL)
	}
	apply := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	cs := target.Client
	ns, name, lbl := o.ServiceAccountNamespace(), AccessName(o.Generation), o.labels()
	roleLabels := map[string]string{conventions.ManagedByLabel: conventions.ManagedBy}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Apply(ctx, corev1ac.ServiceAccount(name, ns).WithLabels(lbl), apply); err != nil {
		return nil, fmt.Errorf("%s: apply ServiceAccount %s/%s: %w", target, ns, name, err)
	}
	subject := rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(name).WithNamespace(ns)
	if len(o.Namespaces) == 0 {
		role := rbacv1ac.ClusterRole(AccessRoleName).WithLabels(roleLabels).WithRules(ruleACs(AccessRules(true))...)
		if _, err := cs.RbacV1().ClusterRoles().Apply(ctx, role, apply); err != nil {
			return nil, fmt.Errorf("%s: apply ClusterRole %s: %w", target, AccessRoleName, err)
		}
		binding := rbacv1ac.ClusterRoleBinding(name).WithLabels(lbl).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(AccessRoleName)).
			WithSubjects(subject)
		if _, err := cs.RbacV1().ClusterRoleBindings().Apply(ctx, binding, apply); err != nil {
			return nil, fmt.Errorf("%s: apply ClusterRoleBinding %s: %w", target, name, err)
		}
	}
	for _, n := range o.Namespaces {
		role := rbacv1ac.Role(AccessRoleName, n).WithLabels(roleLabels).WithRules(ruleACs(AccessRules(false))...)
		if _, err := cs.RbacV1().Roles(n).Apply(ctx, role, apply); err != nil {
			return nil, fmt.Errorf("%s: apply Role %s/%s: %w", target, n, AccessRoleName, err)
		}
		binding := rbacv1ac.RoleBinding(name, n).WithLabels(lbl).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(AccessRoleName)).
			WithSubjects(subject)
		if _, err := cs.RbacV1().RoleBindings(n).Apply(ctx, binding, apply); err != nil {
			return nil, fmt.Errorf("%s: apply RoleBinding %s/%s: %w", target, n, name, err)
		}
	}
	token, expires, err := requestToken(ctx, cs, ns, name, o.TokenTTL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if e, ok := TokenExpiry(token); ok {
		expires = e
	}
	return &Grant{ServiceAccount: ns + "/" + name, Token: token, Expires: expires}, nil
}

// requestToken mints a token of ServiceAccount ns/sa that expires after ttl
// (TokenRequest; the apiserver may shorten it) and returns it with the
// expiry the apiserver reports.
func requestToken(ctx context.Context, cs kubernetes.Interface, ns, sa string, ttl time.Duration) (string, time.Time, error) {
	exp := int64(ttl / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("TokenRequest for ServiceAccount %s/%s: %w", ns, sa, err)
	}
	if tr.Status.Token == "" {
		return "", time.Time{}, fmt.Errorf("TokenRequest for ServiceAccount %s/%s returned no token", ns, sa)
	}
	return tr.Status.Token, tr.Status.ExpirationTimestamp.Time, nil
}

func ruleACs(rules []rbacv1.PolicyRule) []*rbacv1ac.PolicyRuleApplyConfiguration {
	var out []*rbacv1ac.PolicyRuleApplyConfiguration
	for _, r := range rules {
		pr := rbacv1ac.PolicyRule().WithVerbs(r.Verbs...)
		if len(r.NonResourceURLs) > 0 {
			pr.WithNonResourceURLs(r.NonResourceURLs...)
		} else {
			pr.WithAPIGroups(r.APIGroups...).WithResources(r.Resources...)
		}
		out = append(out, pr)
	}
	return out
}

// RevokeAccess deletes, in target, the ServiceAccounts and bindings hubctl made for cluster
// whose generation is below keep (keep 0: every generation), which revokes their tokens. With
// roles, it also deletes the shared role(s) of namespaces (only when keep is 0). Only objects
// labelled as hubctl's for that cluster are touched. Missing objects are not an error.
func RevokeAccess(ctx context.Context, target *kube.Cluster, cluster string, namespaces []string, keep int) ([]string, error) {
	sel := labels.Set{conventions.ManagedByLabel: conventions.ManagedBy, conventions.ClusterLabel: labelValue(cluster)}.String()
	list := metav1.ListOptions{LabelSelector: sel}
	old := func(m metav1.ObjectMeta) bool {
		g, err := strconv.Atoi(m.Labels[conventions.GenerationLabel])
		return err == nil && (keep == 0 || g < keep)
	}
	var deleted []string
	del := func(what string, uid string, f func(metav1.DeleteOptions) error) error {
		u := typesUID(uid)
		err := f(metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &u}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("%s: delete %s: %w", target, what, err)
		}
		deleted = append(deleted, what)
		return nil
	}
	cs := target.Client
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("%s: list ClusterRoleBindings (%s): %w", target, sel, err)
	}
	for _, b := range crbs.Items {
		if old(b.ObjectMeta) {
			if err := del("ClusterRoleBinding "+b.Name, string(b.UID), func(o metav1.DeleteOptions) error {
				return cs.RbacV1().ClusterRoleBindings().Delete(ctx, b.Name, o)
			}); err != nil {
				return deleted, err
			}
		}
	}
	for _, n := range append([]string{metav1.NamespaceSystem}, namespaces...) {
		rbs, err := cs.RbacV1().RoleBindings(n).List(ctx, list)
		if err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("%s: list RoleBindings in %s (%s): %w", target, n, sel, err)
		}
		if rbs != nil {
			for _, b := range rbs.Items {
				if old(b.ObjectMeta) {
					if err := del("RoleBinding "+n+"/"+b.Name, string(b.UID), func(o metav1.DeleteOptions) error {
						return cs.RbacV1().RoleBindings(n).Delete(ctx, b.Name, o)
					}); err != nil {
						return deleted, err
					}
				}
			}
		}
		sas, err := cs.CoreV1().ServiceAccounts(n).List(ctx, list)
		if err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("%s: list ServiceAccounts in %s (%s): %w", target, n, sel, err)
		}
		if sas != nil {
			for _, sa := range sas.Items {
				if old(sa.ObjectMeta) {
					if err := del("ServiceAccount "+n+"/"+sa.Name, string(sa.UID), func(o metav1.DeleteOptions) error {
						return cs.CoreV1().ServiceAccounts(n).Delete(ctx, sa.Name, o)
					}); err != nil {
						return deleted, err
					}
				}
			}
		}
	}
	if keep == 0 {
		// The shared roles: only when no other cluster's binding still uses them.
		others, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: conventions.ManagedByLabel + "=" + conventions.ManagedBy})
		if err == nil && len(others.Items) == 0 && len(namespaces) == 0 {
			if err := cs.RbacV1().ClusterRoles().Delete(ctx, AccessRoleName, metav1.DeleteOptions{}); err == nil {
				deleted = append(deleted, "ClusterRole "+AccessRoleName)
			}
		}
		for _, n := range namespaces {
			rbs, err := cs.RbacV1().RoleBindings(n).List(ctx, metav1.ListOptions{LabelSelector: conventions.ManagedByLabel + "=" + conventions.ManagedBy})
			if err == nil && len(rbs.Items) == 0 {
				if err := cs.RbacV1().Roles(n).Delete(ctx, AccessRoleName, metav1.DeleteOptions{}); err == nil {
					deleted = append(deleted, "Role "+n+"/"+AccessRoleName)
				}
			}
		}
	}
	return deleted, nil
}

// TokenExpiry reads the exp claim of a JWT without verifying it (hubctl only reports it).
func TokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// VerifyAccess makes one real API call to the cluster with the client it is given (built from
// exactly the stored credentials): list namespaces (limit 1) for cluster-wide access, list
// ConfigMaps (limit 1) in the first namespace for namespace-scoped access. RBAC changes reach
// the apiserver's authorizer a moment after they are written, so Forbidden and Unauthorized
// are retried for up to retryFor. The error names the call.
func VerifyAccess(ctx context.Context, c *kube.Cluster, namespaces []string, retryFor time.Duration) error {
	call := "list namespaces"
	do := func(ctx context.Context) error {
		_, err := c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		return err
	}
	if len(namespaces) > 0 {
		call = "list configmaps in namespace " + namespaces[0]
		do = func(ctx context.Context) error {
			_, err := c.Client.CoreV1().ConfigMaps(namespaces[0]).List(ctx, metav1.ListOptions{Limit: 1})
			return err
		}
	}
	deadline := time.Now().Add(retryFor)
	for {
		err := do(ctx)
		if err == nil {
			return nil
		}
		retry := (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)) && time.Now().Before(deadline)
		if !retry {
			return fmt.Errorf("%s: %s with the stored credentials: %w", c, call, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s with the stored credentials: %w (last: %v)", c, call, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// errNoGeneration: a cluster Secret without hubctl's generation annotation.
var errNoGeneration = errors.New("no credential generation")

// Generation reads hubctl's credential generation of a hub cluster Secret.
func Generation(s *corev1.Secret) (int, error) {
	v, ok := s.Annotations[conventions.GenerationAnnotation]
	if !ok {
		return 0, errNoGeneration
	}
	return strconv.Atoi(v)
}

func typesUID(s string) types.UID { return types.UID(s) }

// IsExpiredCredential reports whether err is the apiserver refusing the credentials
// (Unauthorized: an expired or revoked token).
func IsExpiredCredential(err error) bool { return apierrors.IsUnauthorized(err) }
