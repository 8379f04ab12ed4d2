// Package hubconfig manages the hub's central configuration: one namespace
// per client on the hub (client-<client>), holding the client's Secrets,
// which each hosting cluster's External Secrets Operator reads (see
// docs/central-config.md).
//
// Secret values never leave this package except to the apiserver: results
// carry keys, sizes and short SHA-256 hashes, and errors name the client,
// namespace, Secret and key, never a value.
//
// hubctl only changes or deletes what it created: a Secret (or namespace)
// without the label app.kubernetes.io/managed-by=hubctl is left alone, and
// Set and Delete refuse it with ErrNotManaged.
package hubconfig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Labels hubctl puts on what it creates on the hub.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "hubctl"
	// ClientLabel on a client namespace names its client, as the registry
	// spells it (the namespace name is lowercased).
	ClientLabel = "gitops-hub.io/client"
	// NamespacePrefix starts every client namespace's name.
	NamespacePrefix = "client-"
	// MaxSecretBytes bounds a Secret's data, as the apiserver does (1 MiB).
	MaxSecretBytes = 1 << 20
	// HashLen is how many hex digits of a value's SHA-256 are shown.
	HashLen = 12
)

// ErrNotManaged is returned (wrapped) when hubctl would change or delete a
// Secret it did not create.
var ErrNotManaged = errors.New("not managed by hubctl (no label " + ManagedByLabel + "=" + ManagedBy + ")")

// ErrNotFound is returned (wrapped) by Get and Delete for a missing Secret.
var ErrNotFound = errors.New("not found")

// Namespace returns the hub namespace of client: client-<client>,
// lowercased. The result must be a DNS-1123 label.
func Namespace(client string) (string, error) {
	if client == "" {
		return "", errors.New("client: empty name")
	}
	ns := NamespacePrefix + strings.ToLower(client)
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return "", fmt.Errorf("client %q: namespace %q is not a valid name: %s", client, ns, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsValidLabelValue(client); len(msgs) > 0 {
		return "", fmt.Errorf("client %q: not a valid label value: %s", client, strings.Join(msgs, "; "))
	}
	return ns, nil
}

// ValidateName checks a Secret name.
func ValidateName(name string) error {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Errorf("secret name %q: %s", name, strings.Join(msgs, "; "))
	}
	return nil
}

// ValidateData checks keys (as a Secret's keys) and the total size. Errors
// name keys, never values.
func ValidateData(data map[string][]byte) error {
	if len(data) == 0 {
		return errors.New("no key given")
	}
	total := 0
	for k, v := range data {
		if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
			return fmt.Errorf("key %q: %s", k, strings.Join(msgs, "; "))
		}
		total += len(k) + len(v)
	}
	if total > MaxSecretBytes {
		return fmt.Errorf("data is %d bytes, more than a Secret holds (%d)", total, MaxSecretBytes)
	}
	return nil
}

// Key describes one key of a Secret without its value.
type Key struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"` // first HashLen hex digits
}

// Info describes a Secret without its values.
type Info struct {
	Client    string `json:"client,omitempty"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Managed   bool   `json:"managed"`
	Keys      []Key  `json:"keys"`
	// Created is set by Set when the Secret did not exist.
	Created bool `json:"created,omitempty"`
}

// ShortHash is the first HashLen hex digits of v's SHA-256.
func ShortHash(v []byte) string {
	h := sha256.Sum256(v)
	return hex.EncodeToString(h[:])[:HashLen]
}

func describe(client string, s *corev1.Secret) Info {
	in := Info{Client: client, Namespace: s.Namespace, Name: s.Name, Type: string(s.Type), Managed: managed(&s.ObjectMeta)}
	for k, v := range s.Data {
		in.Keys = append(in.Keys, Key{Name: k, Size: len(v), SHA256: ShortHash(v)})
	}
	sort.Slice(in.Keys, func(i, j int) bool { return in.Keys[i].Name < in.Keys[j].Name })
	return in
}

func managed(m *metav1.ObjectMeta) bool { return m.Labels[ManagedByLabel] == ManagedBy }

func managedLabels(client string) map[string]string {
	return map[string]string{ManagedByLabel: ManagedBy, ClientLabel: client}
}

// EnsureNamespace creates the client's namespace, labelled as hubctl's, when
// it is missing, and returns its name. An existing namespace is used as is.
func EnsureNamespace(ctx context.Context, c kubernetes.Interface, client string) (string, error) {
	ns, err := Namespace(client)
	if err != nil {
		return "", err
	}
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: managedLabels(client)}}
	if _, err := c.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("client %q: creating namespace %s: %w", client, ns, err)
	}
	return ns, nil
}

// Set creates or replaces the Secret name in the client's namespace with
// data (creating the namespace when missing). An existing Secret must be
// hubctl's and Opaque; its data is replaced as a whole, its other labels and
// annotations are kept.
func Set(ctx context.Context, c kubernetes.Interface, client, name string, data map[string][]byte) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if err := ValidateData(data); err != nil {
		return Info{}, fmt.Errorf("secret %s: %w", name, err)
	}
	ns, err := EnsureNamespace(ctx, c, client)
	if err != nil {
		return Info{}, err
	}
	where := fmt.Sprintf("client %q: secret %s/%s", client, ns, name)
	secrets := c.CoreV1().Secrets(ns)
	var out Info
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: managedLabels(client)},
				Type:       corev1.SecretTypeOpaque,
				Data:       data,
			}
			got, err := secrets.Create(ctx, obj, metav1.CreateOptions{FieldManager: ManagedBy})
			if err != nil {
				return err // AlreadyExists: a race; the caller sees it
			}
			out = describe(client, got)
			out.Created = true
			return nil
		}
		if err != nil {
			return err
		}
		if !managed(&cur.ObjectMeta) {
			return ErrNotManaged
		}
		if cur.Type != corev1.SecretTypeOpaque {
			return fmt.Errorf("type is %s, not %s", cur.Type, corev1.SecretTypeOpaque)
		}
		cur = cur.DeepCopy()
		cur.Data = data
		cur.StringData = nil
		got, err := secrets.Update(ctx, cur, metav1.UpdateOptions{FieldManager: ManagedBy})
		if err != nil {
			return err
		}
		out = describe(client, got)
		return nil
	})
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", where, err)
	}
	return out, nil
}

// Get describes the Secret name of client (keys, sizes, hashes).
func Get(ctx context.Context, c kubernetes.Interface, client, name string) (Info, error) {
	ns, err := Namespace(client)
	if err != nil {
		return Info{}, err
	}
	s, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Info{}, fmt.Errorf("client %q: secret %s/%s: %w", client, ns, name, ErrNotFound)
	}
	if err != nil {
		return Info{}, fmt.Errorf("client %q: secret %s/%s: %w", client, ns, name, err)
	}
	return describe(client, s), nil
}

// List describes the Secrets of client's namespace, or, when client is
// empty, of every client namespace hubctl created, sorted by namespace and
// name. Service-account token Secrets are left out. A missing namespace is
// an empty list.
func List(ctx context.Context, c kubernetes.Interface, client string) ([]Info, error) {
	type target struct{ client, ns string }
	var targets []target
	if client != "" {
		ns, err := Namespace(client)
		if err != nil {
			return nil, err
		}
		targets = append(targets, target{client, ns})
	} else {
		sel := labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedBy}).String() + "," + ClientLabel
		nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("listing client namespaces: %w", err)
		}
		for _, n := range nss.Items {
			targets = append(targets, target{n.Labels[ClientLabel], n.Name})
		}
	}
	var out []Info
	for _, tg := range targets {
		l, err := c.CoreV1().Secrets(tg.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("client %q: listing secrets in %s: %w", tg.client, tg.ns, err)
		}
		for i := range l.Items {
			if l.Items[i].Type == corev1.SecretTypeServiceAccountToken {
				continue
			}
			out = append(out, describe(tg.client, &l.Items[i]))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Delete deletes the Secret name of client, only when hubctl created it.
// The delete is conditional on the Secret read (UID and resourceVersion), so
// a Secret replaced in between is not deleted.
func Delete(ctx context.Context, c kubernetes.Interface, client, name string) error {
	ns, err := Namespace(client)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("client %q: secret %s/%s", client, ns, name)
	s, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: %w", where, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if !managed(&s.ObjectMeta) {
		return fmt.Errorf("%s: refusing to delete: %w", where, ErrNotManaged)
	}
	pre := metav1.Preconditions{UID: &s.UID, ResourceVersion: &s.ResourceVersion}
	if err := c.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &pre}); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}
