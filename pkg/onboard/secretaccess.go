package onboard

// Hub-side access for a hosting cluster's External Secrets Operator (see
// docs/central-config.md).
//
// Each hosting cluster reads its client's Secrets on the hub as its own
// ServiceAccount, eso-<cluster> in the client's namespace client-<client>,
// bound by a RoleBinding to a Role that allows get, list and watch on
// Secrets in that namespace only. Nothing is granted cluster-wide: the
// SelfSubjectRulesReview (and SelfSubjectAccessReview) that ESO's
// kubernetes provider creates to validate its store is allowed to every
// authenticated user by the apiserver's default system:basic-user
// ClusterRole, and the tests check that it answers.
//
// The token is a TokenRequest token of bounded lifetime (no long-lived
// token Secret); deleting the ServiceAccount revokes it. Nothing here logs
// or prints a token, and no error quotes one.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

// Names and defaults of the hub-side ESO access.
const (
	// ESOServiceAccountPrefix + the lowercased cluster name is the hosting
	// cluster's ServiceAccount on the hub.
	ESOServiceAccountPrefix = "eso-"
	// ESOSecretReaderRole is the Role, one per client namespace, that the
	// clusters' ServiceAccounts are bound to.
	ESOSecretReaderRole = "eso-secret-reader"
	// DefaultESOTokenTTL is the lifetime asked for a hub token (the
	// apiserver may shorten it). `hubctl cluster rotate` must renew it.
	DefaultESOTokenTTL = 30 * 24 * time.Hour
	// MinESOTokenTTL is the shortest lifetime the TokenRequest API accepts.
	MinESOTokenTTL = 10 * time.Minute

	// ESONamespace and HubCredentialsSecret are where PlaceHubToken writes
	// the hub's credentials in the hosting cluster, for the SecretStore.
	ESONamespace         = "external-secrets"
	HubCredentialsSecret = "hub-credentials"
	// Keys of the hub-credentials Secret.
	HubCredentialsToken  = "token"
	HubCredentialsCA     = "ca.crt"
	HubCredentialsServer = "server"
)

// ErrNotHubctlManaged is returned (wrapped) when an object hubctl would
// change exists without hubctl's label.
var ErrNotHubctlManaged = hubconfig.ErrNotManaged

// ClientSecretAccess is what EnsureClientSecretAccess set up. Token is a
// credential: never print it.
type ClientSecretAccess struct {
	Namespace      string    // client-<client> on the hub
	ServiceAccount string    // eso-<cluster>
	Token          string    // bearer token for the hub
	ExpiresAt      time.Time // as the apiserver granted it
}

// ESOServiceAccountName is the hub ServiceAccount of cluster.
func ESOServiceAccountName(cluster string) (string, error) {
	n := ESOServiceAccountPrefix + strings.ToLower(cluster)
	if msgs := validation.IsDNS1123Subdomain(n); len(msgs) > 0 {
		return "", fmt.Errorf("cluster %q: service account name %q: %s", cluster, n, strings.Join(msgs, "; "))
	}
	return n, nil
}

// ESOSecretReaderRules are the rules of the Role in a client namespace.
func ESOSecretReaderRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}}
}

func hubctlLabels(client, cluster string) map[string]string {
	l := map[string]string{hubconfig.ManagedByLabel: hubconfig.ManagedBy}
	if client != "" {
		l[hubconfig.ClientLabel] = client
	}
	if cluster != "" && len(validation.IsValidLabelValue(cluster)) == 0 {
		l["gitops-hub.io/cluster"] = cluster
	}
	return l
}

func isHubctl(m *metav1.ObjectMeta) bool {
	return m.Labels[hubconfig.ManagedByLabel] == hubconfig.ManagedBy
}

// EnsureClientSecretAccess creates or updates, on the hub, the client's
// namespace, the Role that reads its Secrets, the cluster's ServiceAccount
// and its RoleBinding, then asks a token of lifetime ttl (0:
// DefaultESOTokenTTL) for that ServiceAccount. An object of those names that
// hubctl did not create is not touched: the call fails with
// ErrNotHubctlManaged.
func EnsureClientSecretAccess(ctx context.Context, hub kubernetes.Interface, cluster, client string, ttl time.Duration) (*ClientSecretAccess, error) {
	if ttl == 0 {
		ttl = DefaultESOTokenTTL
	}
	if ttl < MinESOTokenTTL {
		return nil, fmt.Errorf("cluster %q: token lifetime %s is shorter than %s", cluster, ttl, MinESOTokenTTL)
	}
	sa, err := ESOServiceAccountName(cluster)
	if err != nil {
		return nil, err
	}
	ns, err := hubconfig.EnsureNamespace(ctx, hub, client)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("cluster %q, client %q: hub", cluster, client)

	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: ESOSecretReaderRole, Namespace: ns, Labels: hubctlLabels(client, "")},
		Rules:      ESOSecretReaderRules(),
	}
	if err := ensureRole(ctx, hub, role); err != nil {
		return nil, fmt.Errorf("%s role %s/%s: %w", where, ns, role.Name, err)
	}
	sao := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Labels: hubctlLabels(client, cluster)}}
	if err := ensureServiceAccount(ctx, hub, sao); err != nil {
		return nil, fmt.Errorf("%s service account %s/%s: %w", where, ns, sa, err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Labels: hubctlLabels(client, cluster)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ESOSecretReaderRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
	}
	if err := ensureRoleBinding(ctx, hub, rb); err != nil {
		return nil, fmt.Errorf("%s role binding %s/%s: %w", where, ns, sa, err)
	}

	token, expires, err := requestToken(ctx, hub, ns, sa, ttl)
	if err != nil {
		return nil, fmt.Errorf("%s %w", where, err)
	}
	return &ClientSecretAccess{Namespace: ns, ServiceAccount: sa, Token: token, ExpiresAt: expires}, nil
}

// objectAPI is the part of a client-go typed resource client that
// ensureOwned uses.
type objectAPI[T metav1.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// ensureOwned creates want when missing. An existing object must carry
// hubctl's label (ErrNotHubctlManaged otherwise); update then returns the
// object to write (a copy of cur), or false when cur is already right.
func ensureOwned[T metav1.Object](ctx context.Context, api objectAPI[T], want T, update func(cur T) (T, bool, error)) error {
	cur, err := api.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, want, metav1.CreateOptions{FieldManager: FieldManager})
		return err
	}
	if err != nil {
		return err
	}
	if cur.GetLabels()[hubconfig.ManagedByLabel] != hubconfig.ManagedBy {
		return ErrNotHubctlManaged
	}
	next, changed, err := update(cur)
	if err != nil || !changed {
		return err
	}
	_, err = api.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
	return err
}

func ensureRole(ctx context.Context, c kubernetes.Interface, want *rbacv1.Role) error {
	return ensureOwned(ctx, c.RbacV1().Roles(want.Namespace), want, func(cur *rbacv1.Role) (*rbacv1.Role, bool, error) {
		if reflect.DeepEqual(cur.Rules, want.Rules) {
			return nil, false, nil
		}
		cur = cur.DeepCopy()
		cur.Rules = want.Rules
		return cur, true, nil
	})
}

func ensureServiceAccount(ctx context.Context, c kubernetes.Interface, want *corev1.ServiceAccount) error {
	return ensureOwned(ctx, c.CoreV1().ServiceAccounts(want.Namespace), want, func(*corev1.ServiceAccount) (*corev1.ServiceAccount, bool, error) {
		return nil, false, nil
	})
}

func ensureRoleBinding(ctx context.Context, c kubernetes.Interface, want *rbacv1.RoleBinding) error {
	rbs := c.RbacV1().RoleBindings(want.Namespace)
	return ensureOwned(ctx, rbs, want, func(cur *rbacv1.RoleBinding) (*rbacv1.RoleBinding, bool, error) {
		if cur.RoleRef != want.RoleRef {
			// roleRef is immutable: replace our own binding, only if unchanged since read
			pre := metav1.Preconditions{UID: &cur.UID, ResourceVersion: &cur.ResourceVersion}
			if err := rbs.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &pre}); err != nil {
				return nil, false, err
			}
			_, err := rbs.Create(ctx, want, metav1.CreateOptions{FieldManager: FieldManager})
			return nil, false, err
		}
		if reflect.DeepEqual(cur.Subjects, want.Subjects) {
			return nil, false, nil
		}
		cur = cur.DeepCopy()
		cur.Subjects = want.Subjects
		return cur, true, nil
	})
}

// PlaceHubToken writes the hub's server URL, CA and token into the hosting
// cluster as the Secret external-secrets/hub-credentials (creating the
// namespace when missing), which the cluster's SecretStore references. It
// is idempotent; an existing Secret must be hubctl's (ErrNotHubctlManaged
// otherwise). Errors never quote the token.
func PlaceHubToken(ctx context.Context, target kubernetes.Interface, token, hubServer string, caData []byte) error {
	if token == "" || hubServer == "" {
		return errors.New("hub credentials: empty token or hub server")
	}
	data := map[string][]byte{HubCredentialsToken: []byte(token), HubCredentialsServer: []byte(hubServer)}
	if len(caData) > 0 {
		data[HubCredentialsCA] = caData
	}
	where := fmt.Sprintf("hosting cluster: secret %s/%s", ESONamespace, HubCredentialsSecret)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ESONamespace, Labels: hubctlLabels("", "")}}
	if _, err := target.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("hosting cluster: namespace %s: %w", ESONamespace, err)
	}
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: HubCredentialsSecret, Namespace: ESONamespace, Labels: hubctlLabels("", "")},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	err := ensureOwned(ctx, target.CoreV1().Secrets(ESONamespace), want, func(cur *corev1.Secret) (*corev1.Secret, bool, error) {
		if maps.EqualFunc(cur.Data, data, func(a, b []byte) bool { return string(a) == string(b) }) {
			return nil, false, nil
		}
		cur = cur.DeepCopy()
		cur.Data = data
		return cur, true, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// HubCA is the CA (PEM) a hosting cluster needs to trust the hub's
// apiserver, read from the hub's client configuration (CAData or CAFile);
// nil when the configuration names none (the system roots are then used).
func HubCA(hub *rest.Config) ([]byte, error) {
	return caOf(hub)
}

// RevokeClientSecretAccess deletes, on the hub, the ServiceAccount and
// RoleBinding eso-<cluster> that EnsureClientSecretAccess created, in
// whichever client namespace they are (found by hubctl's labels): every
// token of that ServiceAccount stops working. Objects without hubctl's label
// are left alone. The client's Role and namespace stay (other clusters of
// the client use them). It returns what it deleted.
func RevokeClientSecretAccess(ctx context.Context, hub kubernetes.Interface, cluster string) ([]string, error) {
	sa, err := ESOServiceAccountName(cluster)
	if err != nil {
		return nil, err
	}
	sel := hubconfig.ManagedByLabel + "=" + hubconfig.ManagedBy
	if len(validation.IsValidLabelValue(cluster)) == 0 {
		sel += ",gitops-hub.io/cluster=" + cluster
	}
	list, err := hub.CoreV1().ServiceAccounts(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: sel, FieldSelector: "metadata.name=" + sa})
	if err != nil {
		return nil, fmt.Errorf("cluster %q: hub: list service accounts %s: %w", cluster, sa, err)
	}
	var deleted []string
	for _, s := range list.Items {
		if s.Name != sa {
			continue
		}
		rbs := hub.RbacV1().RoleBindings(s.Namespace)
		rb, err := rbs.Get(ctx, sa, metav1.GetOptions{})
		switch {
		case err == nil && isHubctl(&rb.ObjectMeta):
			pre := metav1.Preconditions{UID: &rb.UID}
			if err := rbs.Delete(ctx, sa, metav1.DeleteOptions{Preconditions: &pre}); err != nil && !apierrors.IsNotFound(err) {
				return deleted, fmt.Errorf("cluster %q: hub: delete role binding %s/%s: %w", cluster, s.Namespace, sa, err)
			}
			deleted = append(deleted, "RoleBinding "+s.Namespace+"/"+sa)
		case err != nil && !apierrors.IsNotFound(err):
			return deleted, fmt.Errorf("cluster %q: hub: get role binding %s/%s: %w", cluster, s.Namespace, sa, err)
		}
		pre := metav1.Preconditions{UID: &s.UID}
		if err := hub.CoreV1().ServiceAccounts(s.Namespace).Delete(ctx, sa, metav1.DeleteOptions{Preconditions: &pre}); err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("cluster %q: hub: delete service account %s/%s: %w", cluster, s.Namespace, sa, err)
		}
		deleted = append(deleted, "ServiceAccount "+s.Namespace+"/"+sa)
	}
	return deleted, nil
}

// RemoveHubToken deletes the hosting cluster's external-secrets/hub-credentials
// Secret when hubctl wrote it (true when it deleted it). A Secret of that
// name without hubctl's label is refused with ErrNotHubctlManaged.
func RemoveHubToken(ctx context.Context, target kubernetes.Interface) (bool, error) {
	where := fmt.Sprintf("hosting cluster: secret %s/%s", ESONamespace, HubCredentialsSecret)
	secrets := target.CoreV1().Secrets(ESONamespace)
	cur, err := secrets.Get(ctx, HubCredentialsSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	if !isHubctl(&cur.ObjectMeta) {
		return false, fmt.Errorf("%s: %w", where, ErrNotHubctlManaged)
	}
	pre := metav1.Preconditions{UID: &cur.UID}
	if err := secrets.Delete(ctx, HubCredentialsSecret, metav1.DeleteOptions{Preconditions: &pre}); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	return true, nil
}

// HubToken reads what PlaceHubToken wrote in the hosting cluster: the hub
// server and the token's expiry (from its exp claim). found is false when
// there is no hub-credentials Secret. The token itself is not returned.
func HubToken(ctx context.Context, target kubernetes.Interface) (server string, expires time.Time, found bool, err error) {
	cur, err := target.CoreV1().Secrets(ESONamespace).Get(ctx, HubCredentialsSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("hosting cluster: secret %s/%s: %w", ESONamespace, HubCredentialsSecret, err)
	}
	exp, _ := TokenExpiry(string(cur.Data[HubCredentialsToken]))
	return string(cur.Data[HubCredentialsServer]), exp, true, nil
}
