// Package onboard registers a hosting cluster in the hub, as `argocd cluster
// add` does: a ServiceAccount with cluster-admin-like rights in the hosting
// cluster, a long-lived token for it, and an Argo CD cluster Secret in the
// hub carrying the registry entry's labels and annotations (from Git) plus
// the credentials (never in Git).
//
// Token. Like `argocd cluster add`, Register creates a
// kubernetes.io/service-account-token Secret for the ServiceAccount and waits
// (Options.TokenWait, 5 s by default) for the token controller to fill it.
// That controller runs in kube-controller-manager: a bare kube-apiserver (a
// test cluster, the local fleet without a controller manager) never fills
// it. Register then mints a token with the TokenRequest API instead
// (Options.TokenExpiration, one year by default; the apiserver may shorten it
// with --service-account-max-token-expiration), bound to that Secret, so
// deleting the Secret (or the ServiceAccount) revokes either kind of token.
//
// Nothing here logs or prints a token; errors never quote one. The Secret
// Register returns holds the credentials: do not print it.
package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Names and defaults, as in Argo CD's util/clusterauth.
const (
	DefaultNamespace       = conventions.ArgoCDNamespace
	DefaultServiceAccount  = "argocd-manager"
	DefaultSystemNamespace = metav1.NamespaceSystem
	ClusterRoleName        = "argocd-manager-role"
	ClusterRoleBindingName = "argocd-manager-role-binding"
	TokenSecretSuffix      = "-long-lived-token"

	DefaultTokenWait       = 5 * time.Second
	DefaultTokenExpiration = 365 * 24 * time.Hour

	// FieldManager owns what Register applies in the hosting cluster.
	FieldManager = "hubctl"
)

// Argo CD cluster Secret data keys (util/db/cluster.go).
const (
	KeyName    = "name"
	KeyServer  = "server"
	KeyConfig  = "config"
	KeyProject = "project"
)

// ErrNotRegistered is returned (wrapped) by Unregister when no cluster
// Secret matches.
var ErrNotRegistered = errors.New("no Argo CD cluster Secret registers it")

// Options tunes Register and Unregister. The zero value means the defaults.
type Options struct {
	// Namespace is the hub's Argo CD namespace, where cluster Secrets live
	// (default argocd). The registry entry's own metadata.namespace is not
	// used: the Argo CD namespace is a property of the hub.
	Namespace string
	// ServiceAccount is the hosting cluster's ServiceAccount Argo CD acts as
	// (default argocd-manager).
	ServiceAccount string
	// SystemNamespace holds that ServiceAccount and its token Secret
	// (default kube-system).
	SystemNamespace string
	// Server is the URL the hub's Argo CD uses to reach the hosting
	// cluster's apiserver (default: the hosting kubeconfig's server). The
	// registry entry's server (from Git) is not used: in a local fleet it
	// names the production endpoint, not the local one.
	Server string
	// TokenWait is how long Register waits for the token controller to fill
	// the token Secret before it mints a token with the TokenRequest API
	// (default 5 s).
	TokenWait time.Duration
	// TokenExpiration is the lifetime asked for a TokenRequest token
	// (default one year).
	TokenExpiration time.Duration
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.ServiceAccount == "" {
		o.ServiceAccount = DefaultServiceAccount
	}
	if o.SystemNamespace == "" {
		o.SystemNamespace = DefaultSystemNamespace
	}
	if o.TokenWait == 0 {
		o.TokenWait = DefaultTokenWait
	}
	if o.TokenExpiration == 0 {
		o.TokenExpiration = DefaultTokenExpiration
	}
	return o
}

// ClusterConfig is the `config` of an Argo CD cluster Secret, the subset of
// Argo CD's v1alpha1.ClusterConfig that Register writes (same JSON names;
// caData is base64 in JSON, as []byte marshals).
type ClusterConfig struct {
	BearerToken        string              `json:"bearerToken,omitempty"`
	TLSClientConfig    TLSClientConfig     `json:"tlsClientConfig"`
	AWSAuthConfig      *AWSAuthConfig      `json:"awsAuthConfig,omitempty"`
	ExecProviderConfig *ExecProviderConfig `json:"execProviderConfig,omitempty"`
}

// AWSAuthConfig is Argo CD's v1alpha1.AWSAuthConfig: Argo CD gets a token for an EKS cluster
// by running `argocd-k8s-auth aws --cluster-name <clusterName> [--role-arn <roleARN>]`.
type AWSAuthConfig struct {
	ClusterName string `json:"clusterName,omitempty"`
	RoleARN     string `json:"roleARN,omitempty"`
	Profile     string `json:"profile,omitempty"`
}

// ExecProviderConfig is Argo CD's v1alpha1.ExecProviderConfig: a client-go exec credential
// plugin.
type ExecProviderConfig struct {
	Command     string            `json:"command,omitempty"`
	Args        []string          `json:"args,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	APIVersion  string            `json:"apiVersion,omitempty"`
	InstallHint string            `json:"installHint,omitempty"`
}

// AWSAuthCommand is the helper Argo CD runs for an awsAuthConfig.
const AWSAuthCommand = "argocd-k8s-auth"

// ExecAPIVersion is the client.authentication.k8s.io version Argo CD asks of argocd-k8s-auth.
const ExecAPIVersion = "client.authentication.k8s.io/v1beta1"

// CredentialKind names how a config authenticates: "token", "aws", "exec", "client-cert" or
// "none".
func (cc *ClusterConfig) CredentialKind() string {
	switch {
	case cc.AWSAuthConfig != nil:
		return "aws"
	case cc.ExecProviderConfig != nil:
		return "exec"
	case cc.BearerToken != "":
		return "token"
	case len(cc.TLSClientConfig.CertData) > 0:
		return "client-cert"
	}
	return "none"
}

// TLSClientConfig is Argo CD's v1alpha1.TLSClientConfig (the fields used here).
type TLSClientConfig struct {
	Insecure   bool   `json:"insecure"`
	ServerName string `json:"serverName,omitempty"`
	CertData   []byte `json:"certData,omitempty"`
	KeyData    []byte `json:"keyData,omitempty"`
	CAData     []byte `json:"caData,omitempty"`
}

// RESTConfig is the client config Argo CD builds from a cluster Secret's
// server and config: what its controllers use to reach the cluster.
// As Argo CD's v1alpha1 Cluster.RawRestConfig: an awsAuthConfig becomes the exec plugin
// `argocd-k8s-auth aws --cluster-name N [--role-arn R] [--profile P]`, an execProviderConfig
// the exec plugin it describes, else the bearer token or client certificate.
func (cc *ClusterConfig) RESTConfig(server string) *rest.Config {
	cfg := &rest.Config{
		Host:        server,
		BearerToken: cc.BearerToken,
		TLSClientConfig: rest.TLSClientConfig{
			Insecure:   cc.TLSClientConfig.Insecure,
			ServerName: cc.TLSClientConfig.ServerName,
			CertData:   cc.TLSClientConfig.CertData,
			KeyData:    cc.TLSClientConfig.KeyData,
			CAData:     cc.TLSClientConfig.CAData,
		},
	}
	switch {
	case cc.AWSAuthConfig != nil:
		args := []string{"aws", "--cluster-name", cc.AWSAuthConfig.ClusterName}
		if cc.AWSAuthConfig.RoleARN != "" {
			args = append(args, "--role-arn", cc.AWSAuthConfig.RoleARN)
		}
		if cc.AWSAuthConfig.Profile != "" {
			args = append(args, "--profile", cc.AWSAuthConfig.Profile)
		}
		cfg.BearerToken = ""
		cfg.ExecProvider = &clientcmdapi.ExecConfig{
			Command: AWSAuthCommand, Args: args, APIVersion: ExecAPIVersion,
			InstallHint:     AWSAuthCommand + " is Argo CD's credential helper (part of its image): put it on the PATH to use or verify an awsAuthConfig here",
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}
	case cc.ExecProviderConfig != nil:
		e := cc.ExecProviderConfig
		var env []clientcmdapi.ExecEnvVar
		for k, v := range e.Env {
			env = append(env, clientcmdapi.ExecEnvVar{Name: k, Value: v})
		}
		sort.Slice(env, func(i, j int) bool { return env[i].Name < env[j].Name })
		cfg.BearerToken = ""
		cfg.ExecProvider = &clientcmdapi.ExecConfig{
			Command: e.Command, Args: e.Args, Env: env, APIVersion: e.APIVersion, InstallHint: e.InstallHint,
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}
	}
	return cfg
}

// ParseClusterSecret reads server and config from an Argo CD cluster Secret
// (data, or stringData when data lacks the key).
func ParseClusterSecret(s *corev1.Secret) (server string, cfg *ClusterConfig, err error) {
	get := func(k string) string {
		if v, ok := s.Data[k]; ok {
			return string(v)
		}
		return s.StringData[k]
	}
	cfg = &ClusterConfig{}
	if err := json.Unmarshal([]byte(get(KeyConfig)), cfg); err != nil {
		// json's message never quotes the input.
		return "", nil, fmt.Errorf("Secret %s/%s: %s is not valid JSON: %w", s.Namespace, s.Name, KeyConfig, err)
	}
	return get(KeyServer), cfg, nil
}

// Register authorizes Argo CD in the hosting cluster (ServiceAccount,
// ClusterRole argocd-manager-role with every verb on every resource and
// non-resource URL, ClusterRoleBinding, token; see the package comment) and
// creates or updates the cluster Secret c.SecretName in the hub's
// opts.Namespace: labels and annotations exactly c's (plus
// argocd.argoproj.io/secret-type=cluster), data name=c.Name, server, config
// (bearer token and the hosting cluster's CA), and project when c has one.
// Registering again is idempotent and replaces labels, annotations and data,
// so a label removed from the registry entry is removed from the Secret.
//
// It refuses to register a cluster whose name or server another cluster
// Secret already registers: Argo CD would pick one of the two at random, and
// the ApplicationSets' merge generators key on the server.
//
// Errors name the cluster and the object. The returned Secret is the hub's
// copy and holds the token: never print it.
func Register(ctx context.Context, hub, hosting *kube.Cluster, c *registry.Cluster, opts Options) (*corev1.Secret, error) {
	if c == nil {
		return nil, errors.New("register: no registry entry")
	}
	if err := checkEntry(c); err != nil {
		return nil, fmt.Errorf("register cluster %q: %w", c.Name, err)
	}
	opts = opts.withDefaults()
	server := opts.Server
	if server == "" {
		server = hosting.Config.Host
	}
	wrap := func(format string, args ...any) error {
		return fmt.Errorf("register cluster %q: "+format, append([]any{c.Name}, args...)...)
	}

	// Fail fast, with a clear message, when the hosting cluster is unreachable.
	if _, err := hosting.ServerVersion(ctx); err != nil {
		return nil, wrap("hosting cluster unreachable: %w", err)
	}
	if err := CheckDuplicates(ctx, hub, c, server, opts.Namespace); err != nil {
		return nil, wrap("%w", err)
	}
	token, err := authorize(ctx, hosting, opts)
	if err != nil {
		return nil, wrap("%w", err)
	}
	caData, err := caOf(hosting.Config)
	if err != nil {
		return nil, wrap("hosting %s: reading its CA: %w", hosting, err)
	}
	cfg := ClusterConfig{
		BearerToken: token,
		TLSClientConfig: TLSClientConfig{
			Insecure:   hosting.Config.Insecure,
			ServerName: hosting.Config.ServerName,
		},
	}
	if !cfg.TLSClientConfig.Insecure {
		// client-go (and so Argo CD) refuses a CA together with insecure.
		cfg.TLSClientConfig.CAData = caData
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, wrap("encoding config: %w", err)
	}
	data := map[string][]byte{KeyName: []byte(c.Name), KeyServer: []byte(server), KeyConfig: cfgJSON}
	if c.Project != "" {
		data[KeyProject] = []byte(c.Project)
	}
	labels := maps.Clone(c.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[registry.SecretTypeLabel] = registry.SecretTypeCluster
	annotations := maps.Clone(c.Annotations)

	secret, err := UpsertSecret(ctx, hub, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: opts.Namespace, Labels: labels, Annotations: annotations},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	})
	if err != nil {
		return nil, wrap("hub %s: Secret %s/%s: %w", hub, opts.Namespace, c.SecretName, err)
	}
	return secret, nil
}

func checkEntry(c *registry.Cluster) error {
	switch {
	case c.Name == "":
		return errors.New("the registry entry has no name (stringData.name)")
	case c.SecretName == "":
		return errors.New("the registry entry has no Secret name (metadata.name)")
	}
	if errs := validation.IsDNS1123Subdomain(c.SecretName); len(errs) > 0 {
		return fmt.Errorf("Secret name %q: %v", c.SecretName, errs)
	}
	return nil
}

// CheckDuplicates refuses a name or server that another cluster Secret in
// the hub already registers.
func CheckDuplicates(ctx context.Context, hub *kube.Cluster, c *registry.Cluster, server, namespace string) error {
	list, err := hub.Client.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: registry.SecretTypeLabel + "=" + registry.SecretTypeCluster,
	})
	if err != nil {
		return fmt.Errorf("hub %s: listing cluster Secrets in %s: %w", hub, namespace, err)
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name == c.SecretName {
			continue
		}
		if string(s.Data[KeyName]) == c.Name {
			return fmt.Errorf("hub %s: Secret %s/%s already registers a cluster named %q", hub, s.Namespace, s.Name, c.Name)
		}
		if trimSlash(string(s.Data[KeyServer])) == trimSlash(server) {
			return fmt.Errorf("hub %s: Secret %s/%s (cluster %q) already registers server %s", hub, s.Namespace, s.Name, s.Data[KeyName], server)
		}
	}
	return nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// UpsertSecret creates want, or replaces the labels, annotations and data of
// the existing Secret with want's (retrying on write conflicts).
func UpsertSecret(ctx context.Context, hub *kube.Cluster, want *corev1.Secret) (*corev1.Secret, error) {
	secrets := hub.Client.CoreV1().Secrets(want.Namespace)
	var out *corev1.Secret
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := secrets.Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			out, err = secrets.Create(ctx, want, metav1.CreateOptions{FieldManager: FieldManager})
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("secrets"), want.Name, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if cur.Type != want.Type {
			return fmt.Errorf("exists with type %s, want %s (the type cannot change: delete the Secret first)", cur.Type, want.Type)
		}
		cur.Labels = want.Labels
		cur.Annotations = want.Annotations
		cur.Data = want.Data
		cur.StringData = nil
		out, err = secrets.Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	return out, err
}

// caOf returns the PEM CA bundle a client config trusts (inline or from its file).
func caOf(cfg *rest.Config) ([]byte, error) {
	c := rest.CopyConfig(cfg)
	if err := rest.LoadTLSFiles(c); err != nil {
		return nil, err
	}
	return c.CAData, nil
}

// ManagerRules are the ClusterRole rules of the ServiceAccount, as Argo CD's
// ArgoCDManagerClusterPolicyRules: everything.
func ManagerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
	}
}

// authorize applies the ServiceAccount, ClusterRole, ClusterRoleBinding and
// token Secret in the hosting cluster and returns a bearer token.
func authorize(ctx context.Context, hosting *kube.Cluster, opts Options) (string, error) {
	apply := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	ns, sa := opts.SystemNamespace, opts.ServiceAccount
	cs := hosting.Client
	if _, err := cs.CoreV1().ServiceAccounts(ns).Apply(ctx, corev1ac.ServiceAccount(sa, ns), apply); err != nil {
		return "", fmt.Errorf("hosting %s: apply ServiceAccount %s/%s: %w", hosting, ns, sa, err)
	}
	role := rbacv1ac.ClusterRole(ClusterRoleName)
	for _, r := range ManagerRules() {
		pr := rbacv1ac.PolicyRule().WithVerbs(r.Verbs...)
		if len(r.NonResourceURLs) > 0 {
			pr.WithNonResourceURLs(r.NonResourceURLs...)
		} else {
			pr.WithAPIGroups(r.APIGroups...).WithResources(r.Resources...)
		}
		role.WithRules(pr)
	}
	if _, err := cs.RbacV1().ClusterRoles().Apply(ctx, role, apply); err != nil {
		return "", fmt.Errorf("hosting %s: apply ClusterRole %s: %w", hosting, ClusterRoleName, err)
	}
	binding := rbacv1ac.ClusterRoleBinding(ClusterRoleBindingName).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(ClusterRoleName)).
		WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(sa).WithNamespace(ns))
	if _, err := cs.RbacV1().ClusterRoleBindings().Apply(ctx, binding, apply); err != nil {
		return "", fmt.Errorf("hosting %s: apply ClusterRoleBinding %s: %w", hosting, ClusterRoleBindingName, err)
	}

	secretName := sa + TokenSecretSuffix
	tokenSecret := corev1ac.Secret(secretName, ns).
		WithType(corev1.SecretTypeServiceAccountToken).
		WithAnnotations(map[string]string{corev1.ServiceAccountNameKey: sa})
	sec, err := cs.CoreV1().Secrets(ns).Apply(ctx, tokenSecret, apply)
	if err != nil {
		return "", fmt.Errorf("hosting %s: apply Secret %s/%s: %w", hosting, ns, secretName, err)
	}
	// Wait for the token controller (kube-controller-manager) to fill it.
	giveUp := time.Now().Add(opts.TokenWait)
	var token string
	err = kube.WaitFor(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if t := sec.Data[corev1.ServiceAccountTokenKey]; len(t) > 0 {
			token = string(t)
			return true, nil
		}
		if !time.Now().Before(giveUp) {
			return true, nil
		}
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		sec = s
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("hosting %s: waiting for the token in Secret %s/%s: %w", hosting, ns, secretName, err)
	}
	if token != "" {
		return token, nil
	}

	// No token controller filled it: mint a token bound to that Secret.
	exp := int64(opts.TokenExpiration / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: &exp,
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: sec.Name, UID: sec.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("hosting %s: Secret %s/%s stayed empty for %s (no token controller?) and TokenRequest for ServiceAccount %s/%s failed: %w", hosting, ns, secretName, opts.TokenWait, ns, sa, err)
	}
	if tr.Status.Token == "" {
		return "", fmt.Errorf("hosting %s: TokenRequest for ServiceAccount %s/%s returned no token", hosting, ns, sa)
	}
	return tr.Status.Token, nil
}

// Unregister deletes the hub's cluster Secrets (in opts.Namespace) whose
// Secret name or cluster name (data.name) is name. It returns an error
// wrapping ErrNotRegistered when there is none. The hosting cluster's
// ServiceAccount and token stay: RemoveManager removes them.
func Unregister(ctx context.Context, hub *kube.Cluster, name string, opts Options) error {
	opts = opts.withDefaults()
	secrets := hub.Client.CoreV1().Secrets(opts.Namespace)
	list, err := secrets.List(ctx, metav1.ListOptions{LabelSelector: registry.SecretTypeLabel + "=" + registry.SecretTypeCluster})
	if err != nil {
		return fmt.Errorf("unregister cluster %q: hub %s: listing cluster Secrets in %s: %w", name, hub, opts.Namespace, err)
	}
	found := false
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != name && string(s.Data[KeyName]) != name {
			continue
		}
		found = true
		err := secrets.Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("unregister cluster %q: hub %s: delete Secret %s/%s: %w", name, hub, s.Namespace, s.Name, err)
		}
	}
	if !found {
		return fmt.Errorf("unregister cluster %q: hub %s, namespace %s: %w", name, hub, opts.Namespace, ErrNotRegistered)
	}
	return nil
}

// RemoveManager deletes, in the hosting cluster, what Register created
// there: the ClusterRoleBinding, the ClusterRole, the token Secret and the
// ServiceAccount (which revokes every token issued for it). Missing objects
// are not an error.
func RemoveManager(ctx context.Context, hosting *kube.Cluster, opts Options) error {
	opts = opts.withDefaults()
	ns, sa := opts.SystemNamespace, opts.ServiceAccount
	cs := hosting.Client
	steps := []struct {
		what string
		del  func() error
	}{
		{"ClusterRoleBinding " + ClusterRoleBindingName, func() error {
			return cs.RbacV1().ClusterRoleBindings().Delete(ctx, ClusterRoleBindingName, metav1.DeleteOptions{})
		}},
		{"ClusterRole " + ClusterRoleName, func() error {
			return cs.RbacV1().ClusterRoles().Delete(ctx, ClusterRoleName, metav1.DeleteOptions{})
		}},
		{"Secret " + ns + "/" + sa + TokenSecretSuffix, func() error {
			return cs.CoreV1().Secrets(ns).Delete(ctx, sa+TokenSecretSuffix, metav1.DeleteOptions{})
		}},
		{"ServiceAccount " + ns + "/" + sa, func() error {
			return cs.CoreV1().ServiceAccounts(ns).Delete(ctx, sa, metav1.DeleteOptions{})
		}},
	}
	for _, s := range steps {
		if err := s.del(); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("hosting %s: delete %s: %w", hosting, s.what, err)
		}
	}
	return nil
}
