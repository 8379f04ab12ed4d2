package action

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// DefaultVerifyTimeout bounds the verification call of new credentials (retries included: a
// new binding reaches the apiserver's authorizer a moment after it is written).
const DefaultVerifyTimeout = 20 * time.Second

// ClusterAdd registers a target cluster in the hub: the registry entry (written when absent),
// Argo CD's access in the target, and the hub's cluster Secret.
type ClusterAdd struct {
	Config *Configuration
	// Name is the registry's cluster name (clusters/<Name>/cluster.yaml).
	Name string
	// Environment, Client, Enable (addon names) and Annotations fill a new registry entry; an
	// existing entry is used as it is.
	Environment, Client string
	Enable              []string
	Annotations         map[string]string
	// Server is the URL Argo CD reaches the target at (default: the target kubeconfig's).
	Server string
	// Namespaces limit Argo CD to these namespaces of the target.
	Namespaces []string
	// TokenTTL is the token lifetime (default 90 days).
	TokenTTL time.Duration
	// AWSClusterName and AWSRoleARN store an EKS awsAuthConfig instead of a token.
	AWSClusterName, AWSRoleARN string
	// Exec stores an exec credential plugin instead of a token.
	Exec *onboard.ExecProviderConfig
	// VerifyTimeout bounds the verification (default DefaultVerifyTimeout).
	VerifyTimeout time.Duration
	// HubServer is the hub's API URL as the target's External Secrets Operator reaches it
	// (default: the hub kubeconfig's). Used only when the entry has a client label.
	HubServer string
	// HubTokenTTL is the lifetime of the target's hub token (default
	// onboard.DefaultESOTokenTTL).
	HubTokenTTL time.Duration
	// Entry, when set, is the registry entry to register (the caller read it, e.g. from a
	// local overlay): the tree's registry is then neither read nor written.
	Entry *registry.Cluster
}

// ClusterAddResult is what ClusterAdd did.
type ClusterAddResult struct {
	// Entry is the registry entry's path in the tree; EntryWritten when ClusterAdd wrote it
	// (then it is the file a pull request should commit).
	Entry        string
	EntryWritten bool
	// Secret is the hub's cluster Secret (<namespace>/<name>).
	Secret string
	// Credential is the kind stored: token, aws or exec.
	Credential string
	// ServiceAccount and Expires describe a token credential.
	ServiceAccount string
	Expires        time.Time
	// Unchanged: the hub already held valid credentials and the same labels and annotations.
	Unchanged bool
	// HubAccess is the target's access to its client's Secrets on the hub (nil when the
	// entry has no client label).
	HubAccess *HubAccess
}

var addonName = regexp.MustCompile(`^[a-z0-9]([a-z0-9_]*[a-z0-9])?$`)

// clusterName is what a registry cluster name may be: it names a folder of the tree and, lower
// cased, a Secret (a DNS subdomain).
var clusterName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)

// CheckClusterName refuses names that are not usable as a folder of clusters/ and a Secret name.
func CheckClusterName(name string) error {
	if len(name) > 245 || !clusterName.MatchString(name) {
		return fmt.Errorf("cluster name %q: want letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

// entryPath is the registry entry's file on disk. It refuses a path that leaves the tree
// through a symbolic link.
func entryPath(cfg *Configuration, name string) (string, error) {
	if err := CheckClusterName(name); err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(cfg.repoDir())
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, filepath.FromSlash(conventions.ClusterEntry(name)))
	for dir := filepath.Dir(p); dir != root; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%s: %s leads out of the repository", conventions.ClusterEntry(name), dir)
		}
	}
	return p, nil
}

// Run registers the cluster. Before it writes the hub Secret it makes one real API call to the
// target with exactly the credentials it stores; when that fails nothing is written in the hub.
func (a *ClusterAdd) Run(ctx context.Context) (*ClusterAddResult, error) {
	cfg := a.Config
	if err := CheckClusterName(a.Name); err != nil {
		return nil, fmt.Errorf("cluster add: %w", err)
	}
	if a.AWSClusterName == "" && a.AWSRoleARN != "" {
		return nil, errors.New("cluster add: --aws-role-arn needs --aws-cluster-name")
	}
	if a.AWSClusterName != "" && a.Exec != nil {
		return nil, errors.New("cluster add: --aws-* and --exec-* are exclusive")
	}
	res := &ClusterAddResult{Entry: conventions.ClusterEntry(a.Name)}
	entry, exists := a.Entry, a.Entry != nil
	if entry == nil {
		var err error
		if entry, exists, err = loadEntry(cfg, a.Name); err != nil {
			return nil, err
		}
	} else if entry.Name != a.Name {
		return nil, fmt.Errorf("cluster add %s: the given registry entry is cluster %q", a.Name, entry.Name)
	}
	if cfg.Target == nil {
		return nil, fmt.Errorf("cluster add %s: no target cluster (--target-context or --target-kubeconfig)", a.Name)
	}
	target, err := cfg.Target()
	if err != nil {
		return nil, err
	}
	server := a.Server
	if server == "" {
		server = target.Config.Host
	}
	if exists {
		if a.Environment != "" || a.Client != "" || len(a.Enable) > 0 || len(a.Annotations) > 0 {
			fmt.Fprintf(cfg.progress(), "cluster add: %s exists: used as it is (--environment, --client, --enable and --annotation are ignored)\n", res.Entry)
		}
		if entry.Server != "" && strings.TrimRight(entry.Server, "/") != strings.TrimRight(server, "/") {
			fmt.Fprintf(cfg.progress(), "cluster add: %s says server %s; the hub Secret gets %s (the target's)\n", res.Entry, entry.Server, server)
		}
	} else {
		if _, err := entryPath(cfg, a.Name); err != nil { // before anything is written
			return nil, fmt.Errorf("cluster add %s: %w", a.Name, err)
		}
		if entry, err = a.newEntry(cfg, server); err != nil {
			return nil, err
		}
	}

	hub, err := cfg.hub()
	if err != nil {
		return nil, err
	}
	if err := bootstrap.RequireArgoCD(ctx, hub); err != nil {
		return nil, err
	}
	ns := conventions.ArgoCDNamespace
	secrets := hub.Client.CoreV1().Secrets(ns)
	cur, err := secrets.Get(ctx, entry.SecretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return nil, fmt.Errorf("cluster add %s: %s: get Secret %s/%s: %w", a.Name, hub, ns, entry.SecretName, err)
	}
	if err := onboard.CheckDuplicates(ctx, hub, entry, server, ns); err != nil {
		return nil, fmt.Errorf("cluster add %s: %w", a.Name, err)
	}

	cc := onboard.ClusterConfig{TLSClientConfig: onboard.TLSClientConfig{Insecure: target.Config.Insecure, ServerName: target.Config.ServerName}}
	if !target.Config.Insecure {
		c := rest.CopyConfig(target.Config)
		if err := rest.LoadTLSFiles(c); err != nil {
			return nil, fmt.Errorf("cluster add %s: %s: reading its CA: %w", a.Name, target, err)
		}
		cc.TLSClientConfig.CAData = c.CAData
	}
	annotations := maps.Clone(entry.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	generation := 0
	switch {
	case a.AWSClusterName != "":
		cc.AWSAuthConfig = &onboard.AWSAuthConfig{ClusterName: a.AWSClusterName, RoleARN: a.AWSRoleARN}
		res.Credential = "aws"
	case a.Exec != nil:
		cc.ExecProviderConfig = a.Exec
		res.Credential = "exec"
	default:
		res.Credential = "token"
		kept, gen, err := a.reusableToken(ctx, cur, server)
		if err != nil {
			return nil, err
		}
		if kept != nil {
			cc.BearerToken, generation = kept.BearerToken, gen
			res.ServiceAccount = cur.Annotations[conventions.ServiceAccountAnnotation]
			if e, ok := onboard.TokenExpiry(kept.BearerToken); ok {
				res.Expires = e
			}
		} else {
			generation = gen + 1
			fmt.Fprintf(cfg.progress(), "cluster add: %s: ServiceAccount, role and binding of credential generation %d\n", target, generation)
			grant, err := onboard.GrantAccess(ctx, target, onboard.AccessOptions{Cluster: a.Name, Namespaces: a.Namespaces, Generation: generation, TokenTTL: a.TokenTTL})
			if err != nil {
				return nil, fmt.Errorf("cluster add %s: %w (nothing was written in the hub)", a.Name, err)
			}
			cc.BearerToken, res.ServiceAccount, res.Expires = grant.Token, grant.ServiceAccount, grant.Expires
		}
		annotations[conventions.GenerationAnnotation] = strconv.Itoa(generation)
		annotations[conventions.ServiceAccountAnnotation] = res.ServiceAccount
	}
	if len(a.Namespaces) > 0 {
		annotations[conventions.NamespacesAnnotation] = strings.Join(a.Namespaces, ",")
	}

	// One real call with exactly what the Secret will hold.
	fmt.Fprintf(cfg.progress(), "cluster add: verifying the %s credentials against %s\n", res.Credential, server)
	if err := a.verify(ctx, &cc, server); err != nil {
		return nil, fmt.Errorf("cluster add %s: verifying the credentials before writing them: %w (nothing was written in the hub)", a.Name, err)
	}
	want, err := clusterSecret(entry, ns, server, &cc, annotations, a.Namespaces)
	if err != nil {
		return nil, fmt.Errorf("cluster add %s: %w", a.Name, err)
	}
	if cur != nil && sameSecret(cur, want) {
		res.Unchanged = true
	} else {
		fmt.Fprintf(cfg.progress(), "cluster add: %s: writing Secret %s/%s\n", hub, ns, want.Name)
		if _, err := onboard.UpsertSecret(ctx, hub, want); err != nil {
			return nil, fmt.Errorf("cluster add %s: %s: write Secret %s/%s: %w; nothing is registered yet: run the same `hubctl cluster add %s ...` again to complete it", a.Name, hub, ns, want.Name, err, a.Name)
		}
	}
	res.Secret = ns + "/" + want.Name
	if generation > 1 {
		deleted, err := onboard.RevokeAccess(ctx, target, a.Name, a.Namespaces, generation)
		if err != nil {
			fmt.Fprintf(cfg.progress(), "cluster add: warning: revoking older credentials: %v\n", err)
		}
		for _, d := range deleted {
			fmt.Fprintf(cfg.progress(), "cluster add: %s: revoked %s\n", target, d)
		}
	}
	if !exists {
		if err := writeEntry(cfg, a.Name, entry); err != nil {
			return nil, err
		}
		res.EntryWritten = true
	}
	if client := clientOf(entry.Labels); client != "" {
		hubServer := hubServerFor(hub, a.HubServer)
		fmt.Fprintf(cfg.progress(), "cluster add: %s: hub access of client %s for External Secrets Operator (hub server %s)\n", target, client, hubServer)
		acc, err := grantHubAccess(ctx, hub, target, a.Name, client, hubServer, a.HubTokenTTL)
		if err != nil {
			return res, fmt.Errorf("cluster add %s: registered for Argo CD, but the access of its External Secrets Operator to the hub failed: %w; run the same `hubctl cluster add %s ...` again", a.Name, err, a.Name)
		}
		res.HubAccess = acc
	}
	return res, nil
}

// reusableToken returns the current Secret's config when it holds a hubctl token for the same
// server that is valid for at least a tenth of the asked lifetime more: a second run keeps it.
// gen is the current generation (0 when there is none).
func (a *ClusterAdd) reusableToken(ctx context.Context, cur *corev1.Secret, server string) (*onboard.ClusterConfig, int, error) {
	if cur == nil {
		return nil, 0, nil
	}
	gen, err := onboard.Generation(cur)
	if err != nil {
		gen = 0 // registered by something else (argocd cluster add, an older hubctl): start over
	}
	s, cc, err := onboard.ParseClusterSecret(cur)
	if err != nil || gen == 0 || cc.CredentialKind() != "token" || strings.TrimRight(s, "/") != strings.TrimRight(server, "/") {
		return nil, gen, nil
	}
	if cur.Annotations[conventions.NamespacesAnnotation] != strings.Join(a.Namespaces, ",") {
		return nil, gen, nil
	}
	ttl := a.TokenTTL
	if ttl == 0 {
		ttl = onboard.DefaultTokenTTL
	}
	exp, ok := onboard.TokenExpiry(cc.BearerToken)
	if !ok || exp.Before(a.Config.now().Add(ttl/10)) {
		return nil, gen, nil
	}
	if err := a.verify(ctx, cc, s); err != nil {
		fmt.Fprintf(a.Config.progress(), "cluster add: the stored token does not work (%v): new credentials\n", err)
		return nil, gen, nil
	}
	return cc, gen, nil
}

func (a *ClusterAdd) verify(ctx context.Context, cc *onboard.ClusterConfig, server string) error {
	timeout := a.VerifyTimeout
	if timeout == 0 {
		timeout = DefaultVerifyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := a.Config.connectStored(a.Name, server, cc, timeout)
	if err != nil {
		return err
	}
	return onboard.VerifyAccess(ctx, c, a.Namespaces, timeout)
}

// newEntry builds the registry entry of a new cluster from the flags. Addon names are checked
// against the ApplicationSets' enable_<addon> labels.
func (a *ClusterAdd) newEntry(cfg *Configuration, server string) (*registry.Cluster, error) {
	if a.Environment == "" {
		return nil, fmt.Errorf("cluster add %s: %s does not exist: --environment is required to write it", a.Name, conventions.ClusterEntry(a.Name))
	}
	lbl := map[string]string{conventions.SecretTypeLabel: conventions.SecretTypeCluster, conventions.EnvironmentLabel: a.Environment}
	if a.Client != "" {
		lbl[conventions.ClientLabel] = a.Client
	}
	known, _ := Addons(cfg.repo())
	for _, addon := range a.Enable {
		if !addonName.MatchString(addon) {
			return nil, fmt.Errorf("cluster add %s: --enable %q: an addon name is lower case letters, digits and '_'", a.Name, addon)
		}
		if len(known) > 0 && !contains(known, addon) {
			return nil, fmt.Errorf("cluster add %s: --enable %q: no ApplicationSet selects %s=\"true\" (known addons: %s)", a.Name, addon, conventions.EnableLabel(addon), strings.Join(known, ", "))
		}
		lbl[conventions.EnableLabel(addon)] = "true"
	}
	ann := map[string]string{}
	if root, err := RootSource(cfg.repo()); err == nil {
		ann[conventions.RepoURLAnnotation], ann[conventions.RepoRevisionAnnotation] = root.RepoURL, root.Revision
	}
	maps.Copy(ann, a.Annotations)
	c := &registry.Cluster{
		Name: a.Name, Server: server, Labels: lbl, Annotations: ann,
		SecretName: SecretNameFor(a.Name), Namespace: conventions.ArgoCDNamespace,
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SecretNameFor is the cluster Secret name of a new registry entry: cluster-<name>, lower case.
func SecretNameFor(name string) string {
	return "cluster-" + strings.ToLower(name)
}

// loadEntry reads the tree's registry entry of name.
func loadEntry(cfg *Configuration, name string) (*registry.Cluster, bool, error) {
	reg, err := registry.LoadGlob(cfg.repo(), conventions.ClusterRegistry)
	if err != nil {
		return nil, false, err
	}
	c, ok := reg.ByName(name)
	return c, ok, nil
}

// entryDoc is a registry entry as written: an Argo CD cluster Secret without credentials.
type entryDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Type       string            `json:"type"`
	StringData map[string]string `json:"stringData"`
}

const entryHeader = `# Cluster registry entry: an Argo CD cluster Secret WITHOUT credentials (written by
# hubctl cluster add). The credentials are only in the hub's copy and never committed.
`

// writeEntry writes clusters/<name>/cluster.yaml atomically and only when it does not exist:
// the content goes to a temporary file, which is then hard-linked to its name (which fails if
// the name exists, so a concurrent writer's entry is never overwritten).
func writeEntry(cfg *Configuration, name string, c *registry.Cluster) error {
	var d entryDoc
	d.APIVersion, d.Kind, d.Type = "v1", "Secret", "Opaque"
	d.Metadata.Name, d.Metadata.Namespace = c.SecretName, c.Namespace
	d.Metadata.Labels, d.Metadata.Annotations = c.Labels, c.Annotations
	d.StringData = map[string]string{"name": c.Name, "server": c.Server}
	data, err := yaml.Marshal(&d)
	if err != nil {
		return err
	}
	path, err := entryPath(cfg, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cluster-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(entryHeader + string(data)); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil // written meanwhile by a concurrent run: it is used as it is
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// clusterSecret is the hub's cluster Secret: the entry's labels and annotations (plus
// hubctl's), name, server, config and Argo CD's namespaces/clusterResources for a
// namespace-scoped registration.
func clusterSecret(c *registry.Cluster, ns, server string, cc *onboard.ClusterConfig, annotations map[string]string, namespaces []string) (*corev1.Secret, error) {
	cfgJSON, err := jsonMarshal(cc)
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{onboard.KeyName: []byte(c.Name), onboard.KeyServer: []byte(server), onboard.KeyConfig: cfgJSON}
	if c.Project != "" {
		data[onboard.KeyProject] = []byte(c.Project)
	}
	if len(namespaces) > 0 {
		data["namespaces"] = []byte(strings.Join(namespaces, ","))
		data["clusterResources"] = []byte("false")
	}
	lbl := maps.Clone(c.Labels)
	if lbl == nil {
		lbl = map[string]string{}
	}
	lbl[conventions.SecretTypeLabel] = conventions.SecretTypeCluster
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: ns, Labels: lbl, Annotations: annotations},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}, nil
}

func sameSecret(cur, want *corev1.Secret) bool {
	if !maps.Equal(cur.Labels, want.Labels) || !maps.Equal(cur.Annotations, want.Annotations) || len(cur.Data) != len(want.Data) {
		return false
	}
	for k, v := range want.Data {
		if string(cur.Data[k]) != string(v) {
			return false
		}
	}
	return true
}

// hubClusterSecrets loads the hub and its cluster Secrets, by cluster name (data.name).
func (c *Configuration) hubClusterSecrets(ctx context.Context) (*kube.Cluster, []corev1.Secret, map[string]*corev1.Secret, error) {
	hub, err := c.hub()
	if err != nil {
		return nil, nil, nil, err
	}
	secrets, err := listClusterSecrets(ctx, hub, conventions.ArgoCDNamespace)
	if err != nil {
		return nil, nil, nil, err
	}
	byName := make(map[string]*corev1.Secret, len(secrets))
	for i := range secrets {
		byName[string(secrets[i].Data[onboard.KeyName])] = &secrets[i]
	}
	return hub, secrets, byName, nil
}

// listClusterSecrets lists the cluster Secrets of namespace ns on the hub, sorted by name.
func listClusterSecrets(ctx context.Context, hub *kube.Cluster, ns string) ([]corev1.Secret, error) {
	list, err := hub.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: conventions.SecretTypeLabel + "=" + conventions.SecretTypeCluster})
	if err != nil {
		return nil, fmt.Errorf("%s: list cluster Secrets in namespace %s: %w", hub, ns, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}
