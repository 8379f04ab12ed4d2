package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// ClusterRotate gives registered clusters new credentials: a new ServiceAccount (the next
// generation) and its token in the target, verified with a real call, stored in the hub
// Secret, then the previous generation's ServiceAccount and binding deleted, which revokes its
// tokens (see onboard.AccessName).
//
// The target is reached with Config.Target when given (one cluster only), else with the
// credentials the hub stores: their role may create the next ServiceAccount, its binding and
// its token, so a cron job on the hub alone keeps the fleet alive
// (`hubctl cluster rotate --all --expiring-within 336h`). An expired token can only be
// replaced with --target-context.
type ClusterRotate struct {
	Config *Configuration
	Names  []string
	// All selects every hub cluster Secret with a hubctl token; ExpiringWithin (when not 0)
	// keeps those whose token expires within it.
	All            bool
	ExpiringWithin time.Duration
	TokenTTL       time.Duration
	VerifyTimeout  time.Duration
	// HubTokenTTL is the lifetime of the new hub token of a client's cluster (default
	// onboard.DefaultESOTokenTTL).
	HubTokenTTL time.Duration
}

// RotateResult is one cluster's rotation.
type RotateResult struct {
	Name           string    `json:"name"`
	ServiceAccount string    `json:"serviceAccount,omitempty"`
	Expires        time.Time `json:"expires,omitempty"`
	Revoked        []string  `json:"revoked,omitempty"`
	Skipped        string    `json:"skipped,omitempty"`
	Error          string    `json:"error,omitempty"`
	// HubAccess is the cluster's new hub token for External Secrets Operator (clusters with a
	// client label); HubSkipped says why it was not rotated.
	HubAccess  *HubAccess `json:"hubAccess,omitempty"`
	HubSkipped string     `json:"hubSkipped,omitempty"`
}

// Run rotates each selected cluster; a failed cluster does not stop the others, and the
// returned error then names them.
func (r *ClusterRotate) Run(ctx context.Context) ([]RotateResult, error) {
	cfg := r.Config
	if len(r.Names) == 0 && !r.All {
		return nil, errors.New("cluster rotate: name a cluster, or --all")
	}
	if len(r.Names) > 0 && r.All {
		return nil, errors.New("cluster rotate: names and --all are exclusive")
	}
	if cfg.Target != nil && len(r.Names) != 1 {
		return nil, errors.New("cluster rotate: --target-context/--target-kubeconfig go with exactly one cluster name")
	}
	hub, secrets, byName, err := cfg.hubClusterSecrets(ctx)
	if err != nil {
		return nil, err
	}
	var out []RotateResult
	var failed []string
	names := r.Names
	if r.All {
		names = nil
		for i := range secrets {
			names = append(names, string(secrets[i].Data[onboard.KeyName]))
		}
	}
	for _, name := range names {
		s, ok := byName[name]
		if !ok {
			out = append(out, RotateResult{Name: name, Error: fmt.Sprintf("%s: no cluster Secret registers %q", hub, name)})
			failed = append(failed, name)
			continue
		}
		res := r.rotate(ctx, hub, s)
		if res.Error == "" && clientOf(s.Labels) != "" {
			r.rotateHubToken(ctx, hub, s, &res)
		}
		out = append(out, res)
		if res.Error != "" {
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("cluster rotate: failed for %s", strings.Join(failed, ", "))
	}
	return out, nil
}

func (r *ClusterRotate) rotate(ctx context.Context, hub *kube.Cluster, s *corev1.Secret) RotateResult {
	cfg := r.Config
	name := string(s.Data[onboard.KeyName])
	res := RotateResult{Name: name}
	gen, err := onboard.Generation(s)
	server, cc, perr := onboard.ParseClusterSecret(s)
	switch {
	case perr != nil:
		res.Error = perr.Error()
		return res
	case err != nil || cc.CredentialKind() != "token":
		res.Skipped = fmt.Sprintf("credential %s not issued by hubctl cluster add", cc.CredentialKind())
		if len(r.Names) > 0 {
			res.Error = res.Skipped + ": re-run hubctl cluster add " + name
		}
		return res
	}
	if r.ExpiringWithin > 0 {
		if exp, ok := onboard.TokenExpiry(cc.BearerToken); ok && exp.After(cfg.now().Add(r.ExpiringWithin)) {
			res.Skipped = fmt.Sprintf("expires %s, not within %s", exp.UTC().Format(time.RFC3339), r.ExpiringWithin)
			return res
		}
	}
	var namespaces []string
	if ns := string(s.Data["namespaces"]); ns != "" {
		namespaces = strings.Split(ns, ",")
	}
	var actor *kube.Cluster
	if cfg.Target != nil {
		actor, err = cfg.Target()
	} else {
		actor, err = cfg.connectStored(name, server, cc, 0)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	next := gen + 1
	fmt.Fprintf(cfg.progress(), "cluster rotate: %s: credential generation %d\n", name, next)
	grant, err := onboard.GrantAccess(ctx, actor, onboard.AccessOptions{Cluster: name, Namespaces: namespaces, Generation: next, TokenTTL: r.TokenTTL})
	if err != nil {
		res.Error = fmt.Sprintf("%v (the hub Secret is unchanged)", err)
		if onboard.IsExpiredCredential(err) {
			res.Error += ": the stored credentials no longer work; rotate with --target-context"
		}
		return res
	}
	newCC := *cc
	newCC.BearerToken = grant.Token
	timeout := r.VerifyTimeout
	if timeout == 0 {
		timeout = DefaultVerifyTimeout
	}
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	newClient, err := cfg.connect(name+" with its new credentials", newCC.RESTConfig(server))
	if err == nil {
		err = onboard.VerifyAccess(vctx, newClient, namespaces, timeout)
	}
	if err != nil {
		res.Error = fmt.Sprintf("verifying the new credentials: %v (the hub Secret is unchanged)", err)
		return res
	}
	cfgJSON, err := jsonMarshal(&newCC)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	secrets := hub.Client.CoreV1().Secrets(s.Namespace)
	cur := s.DeepCopy()
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if cur == nil {
			fresh, err := secrets.Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur = fresh
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Data[onboard.KeyConfig] = cfgJSON
		cur.Annotations[conventions.GenerationAnnotation] = strconv.Itoa(next)
		cur.Annotations[conventions.ServiceAccountAnnotation] = grant.ServiceAccount
		_, err := secrets.Update(ctx, cur, metav1.UpdateOptions{FieldManager: onboard.FieldManager})
		if apierrors.IsConflict(err) {
			cur = nil
		}
		return err
	})
	if err != nil {
		res.Error = fmt.Sprintf("%s: update Secret %s/%s: %v (the old credentials still work; run hubctl cluster rotate %s again)", hub, s.Namespace, s.Name, err, name)
		return res
	}
	res.ServiceAccount, res.Expires = grant.ServiceAccount, grant.Expires
	revoker := actor
	if cfg.Target == nil {
		revoker = newClient // the old credentials lose their rights halfway through revoking
	}
	deleted, err := onboard.RevokeAccess(ctx, revoker, name, namespaces, next)
	res.Revoked = deleted
	if err != nil {
		res.Error = fmt.Sprintf("the new credentials are stored, but revoking the old ones failed: %v", err)
	}
	return res
}

// rotateHubToken gives a client's cluster a new hub token for its External Secrets Operator
// (the hub ServiceAccount stays; the previous token lasts until it expires), when its current
// one expires within ExpiringWithin (always without it). The target is reached as in rotate:
// Config.Target, else the credentials the hub Secret now stores.
func (r *ClusterRotate) rotateHubToken(ctx context.Context, hub *kube.Cluster, s *corev1.Secret, res *RotateResult) {
	cfg := r.Config
	name := res.Name
	var target *kube.Cluster
	var err error
	if cfg.Target != nil {
		target, err = cfg.Target()
	} else {
		var fresh *corev1.Secret
		fresh, err = hub.Client.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if err == nil {
			server, cc, perr := onboard.ParseClusterSecret(fresh)
			switch {
			case perr != nil:
				err = perr
			case cc.CredentialKind() != "token":
				res.HubSkipped = "the hub stores no hubctl token for it: rotate the hub token with --target-context"
				return
			default:
				target, err = cfg.connectStored(name, server, cc, 0)
			}
		}
	}
	if err != nil {
		res.Error = fmt.Sprintf("hub token for External Secrets Operator: %v", err)
		return
	}
	server, exp, found, err := onboard.HubToken(ctx, target.Client)
	if err != nil {
		res.Error = fmt.Sprintf("hub token for External Secrets Operator: %v", err)
		return
	}
	if found && r.ExpiringWithin > 0 && !exp.IsZero() && exp.After(cfg.now().Add(r.ExpiringWithin)) {
		res.HubSkipped = fmt.Sprintf("hub token expires %s, not within %s", exp.UTC().Format(time.RFC3339), r.ExpiringWithin)
		return
	}
	if server == "" {
		server = hubServerFor(hub, "")
	}
	fmt.Fprintf(cfg.progress(), "cluster rotate: %s: new hub token for External Secrets Operator (hub server %s)\n", name, server)
	acc, err := grantHubAccess(ctx, hub, target, name, clientOf(s.Labels), server, r.HubTokenTTL)
	if err != nil {
		res.Error = fmt.Sprintf("hub token for External Secrets Operator: %v (the Argo CD credentials are rotated)", err)
		return
	}
	res.HubAccess = acc
}

// ClusterRemove unregisters a cluster from the hub.
type ClusterRemove struct {
	Config *Configuration
	Name   string
	// Revoke also deletes, in the target (Config.Target), what hubctl created for Argo CD.
	Revoke bool
	// DeleteEntry also deletes the registry entry from the tree (clusters/<name>/cluster.yaml).
	DeleteEntry bool
}

// RemovedApp is an Application that disappears with the cluster.
type RemovedApp struct {
	Name   string `json:"name"`
	AppSet string `json:"applicationSet"`
	// DeletesResources: the Application carries Argo CD's resources-finalizer, so Argo CD
	// deletes what it deployed; otherwise (preserveResourcesOnDeletion) the workloads stay.
	DeletesResources bool `json:"deletesResources"`
}

// RemovePlan is what ClusterRemove will do.
type RemovePlan struct {
	Secret string       `json:"secret,omitempty"`
	Apps   []RemovedApp `json:"applications"`
	secret *corev1.Secret
}

// Plan finds the hub Secret and generates, offline from the tree with the hub's registry, the
// Applications that disappear with it.
func (r *ClusterRemove) Plan(ctx context.Context) (*RemovePlan, error) {
	cfg := r.Config
	hub, secrets, _, err := cfg.hubClusterSecrets(ctx)
	if err != nil {
		return nil, err
	}
	plan := &RemovePlan{}
	var docs []byte
	for i := range secrets {
		s := &secrets[i]
		if string(s.Data[onboard.KeyName]) == r.Name {
			plan.secret, plan.Secret = s, s.Namespace+"/"+s.Name
		}
		d, err := hubEntryYAML(s)
		if err != nil {
			return nil, err
		}
		docs = append(append(docs, "---\n"...), d...)
	}
	if plan.secret == nil {
		if !r.Revoke && !r.DeleteEntry {
			return nil, fmt.Errorf("cluster remove: %s: no cluster Secret in namespace %s registers %q", hub, conventions.ArgoCDNamespace, r.Name)
		}
		return plan, nil
	}
	tmp, err := os.MkdirTemp("", "hubctl-remove-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	reg := filepath.Join(tmp, "hub-registry.yaml")
	if err := os.WriteFile(reg, docs, 0o600); err != nil {
		return nil, err
	}
	gen, err := (&Generate{RepoFS: cfg.repo(), ClusterFiles: []string{reg}, Clusters: []string{r.Name}}).Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("generating the Applications of %s from the tree with the hub's registry: %w", r.Name, err)
	}
	for _, a := range gen.Apps {
		meta, _ := a.Object["metadata"].(map[string]any)
		fins, _ := meta["finalizers"].([]any)
		deletes := false
		for _, f := range fins {
			if s, _ := f.(string); strings.HasPrefix(s, "resources-finalizer.argocd.argoproj.io") {
				deletes = true
			}
		}
		plan.Apps = append(plan.Apps, RemovedApp{Name: a.Name, AppSet: a.AppSet, DeletesResources: deletes})
	}
	return plan, nil
}

// hubEntryYAML is a hub cluster Secret as a registry entry: name, server, labels,
// annotations, never the credentials.
func hubEntryYAML(s *corev1.Secret) ([]byte, error) {
	var d entryDoc
	d.APIVersion, d.Kind, d.Type = "v1", "Secret", "Opaque"
	d.Metadata.Name, d.Metadata.Namespace, d.Metadata.Labels, d.Metadata.Annotations = s.Name, s.Namespace, s.Labels, s.Annotations
	d.StringData = map[string]string{"name": string(s.Data[onboard.KeyName]), "server": string(s.Data[onboard.KeyServer])}
	if p := s.Data[onboard.KeyProject]; len(p) > 0 {
		d.StringData["project"] = string(p)
	}
	return yaml.Marshal(&d)
}

// Run carries out plan: delete the hub Secret (only the one planned: its uid is a
// precondition), then with Revoke the target's objects, then with DeleteEntry the registry
// entry. It returns what it did.
func (r *ClusterRemove) Run(ctx context.Context, plan *RemovePlan) ([]string, error) {
	cfg := r.Config
	var done []string
	if r.Revoke && cfg.Target == nil {
		return nil, errors.New("cluster remove --revoke: name the target with --target-context or --target-kubeconfig (the stored credentials cannot delete themselves)")
	}
	if plan.secret != nil {
		hub, err := cfg.hub()
		if err != nil {
			return nil, err
		}
		uid := types.UID(plan.secret.UID)
		err = hub.Client.CoreV1().Secrets(plan.secret.Namespace).Delete(ctx, plan.secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("cluster remove %s: %s: delete Secret %s: %w", r.Name, hub, plan.Secret, err)
		}
		done = append(done, "deleted the hub's Secret "+plan.Secret)
	}
	if r.Revoke {
		target, err := cfg.Target()
		if err != nil {
			return done, err
		}
		var namespaces []string
		if plan.secret != nil {
			if ns := string(plan.secret.Data["namespaces"]); ns != "" {
				namespaces = strings.Split(ns, ",")
			}
		}
		deleted, err := onboard.RevokeAccess(ctx, target, r.Name, namespaces, 0)
		for _, d := range deleted {
			done = append(done, fmt.Sprintf("%s: deleted %s", target, d))
		}
		if err != nil {
			return done, fmt.Errorf("cluster remove %s --revoke: %w (run it again to finish)", r.Name, err)
		}
		// The access of its External Secrets Operator to the client's Secrets on the hub.
		hub, err := cfg.hub()
		if err != nil {
			return done, err
		}
		deleted, err = onboard.RevokeClientSecretAccess(ctx, hub.Client, r.Name)
		for _, d := range deleted {
			done = append(done, fmt.Sprintf("%s: deleted %s", hub, d))
		}
		if err != nil {
			return done, fmt.Errorf("cluster remove %s --revoke: %s: %w (run it again to finish)", r.Name, hub, err)
		}
		removed, err := onboard.RemoveHubToken(ctx, target.Client)
		if removed {
			done = append(done, fmt.Sprintf("%s: deleted Secret %s/%s", target, onboard.ESONamespace, onboard.HubCredentialsSecret))
		}
		if err != nil {
			return done, fmt.Errorf("cluster remove %s --revoke: %s: %w", r.Name, target, err)
		}
	}
	if r.DeleteEntry {
		p, err := entryPath(cfg, r.Name)
		if err != nil {
			return done, err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return done, err
		}
		done = append(done, "deleted "+conventions.ClusterEntry(r.Name)+" (commit it)")
	}
	return done, nil
}
