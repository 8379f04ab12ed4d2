// Package conventions is the one home of the GitOps tree's conventions: where things live in
// the repository, the hub's Argo CD namespace, and the label and annotation keys that the
// ApplicationSets, the registry and hubctl's live verbs agree on.
package conventions

import (
	"path"
	"strings"
)

// Paths in the repository (slash-separated, relative to its root, as fs.FS wants them).
const (
	// BootstrapDir holds everything the hub applies to itself.
	BootstrapDir = "bootstrap"
	// RootApp is the hub's app-of-apps.
	RootApp = "bootstrap/root-app.yaml"
	// HubChartFile pins the argo-cd chart installed into the hub (repoURL, chart, version).
	HubChartFile = "bootstrap/hub/argo-cd.yaml"
	// HubValuesFile holds the hub's own Argo CD chart values.
	HubValuesFile = "bootstrap/hub/values.yaml"
	// ProjectsDir holds the AppProjects.
	ProjectsDir = "bootstrap/control-plane/argocd-config/projects"
	// ClusterRegistry is the glob of the registry entries.
	ClusterRegistry = "clusters/*/cluster.yaml"
	// ClustersDir holds one folder per cluster.
	ClustersDir = "clusters"
)

// ClusterEntry is the registry entry of cluster name: clusters/<name>/cluster.yaml.
func ClusterEntry(name string) string { return path.Join(ClustersDir, name, "cluster.yaml") }

// ArgoCDNamespace is where Argo CD runs in the hub and where cluster Secrets live.
const ArgoCDNamespace = "argocd"

// Argo CD's own keys.
const (
	// SecretTypeLabel marks Argo CD cluster Secrets (value SecretTypeCluster).
	SecretTypeLabel   = "argocd.argoproj.io/secret-type"
	SecretTypeCluster = "cluster"
)

// Labels of a cluster Secret that the ApplicationSets select on.
const (
	EnvironmentLabel = "environment"
	ClientLabel      = "client"
	// EnablePrefix + addon ("enable_argocd") set to "true" deploys the addon.
	EnablePrefix = "enable_"
)

// EnableLabel is the label that turns addon on: enable_<addon>.
func EnableLabel(addon string) string { return EnablePrefix + addon }

// Annotations of a cluster Secret read by the ApplicationSets' templates.
const (
	RepoURLAnnotation         = "addons_repo_url"
	RepoRevisionAnnotation    = "addons_repo_revision"
	ChartRepositoryAnnotation = "addons_chart_repository"
)

// hubctl's own keys. They are written by hubctl into the hub (cluster Secrets) and the target
// clusters (ServiceAccounts, RBAC), never into Git, so comparisons between Git and the hub
// leave them out (IsHubctlKey).
const (
	// KeyPrefix is the prefix of every hubctl key.
	KeyPrefix = "gitops-hub.io/"
	// ManagedByLabel marks what hubctl created in a target cluster (value ManagedBy).
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "hubctl"
	// ClusterLabel names, on an object in a target cluster, the registry's cluster name.
	ClusterLabel = KeyPrefix + "cluster"
	// GenerationLabel / GenerationAnnotation hold the credential generation (1, 2, ...): each
	// generation has its own ServiceAccount in the target; a rotation makes a new one and
	// deletes the previous one.
	GenerationLabel      = KeyPrefix + "credential-generation"
	GenerationAnnotation = KeyPrefix + "credential-generation"
	// ServiceAccountAnnotation on a cluster Secret: <namespace>/<name> of the target's
	// ServiceAccount whose token the Secret holds.
	ServiceAccountAnnotation = KeyPrefix + "service-account"
	// NamespacesAnnotation on a cluster Secret: the comma-separated namespaces of a
	// namespace-scoped registration (also in the Secret's data.namespaces, for Argo CD).
	NamespacesAnnotation = KeyPrefix + "namespaces"
)

// IsHubctlKey reports whether a label or annotation key is hubctl's own (or Argo CD's
// secret-type label): such keys are not compared between Git and the hub.
func IsHubctlKey(k string) bool {
	return strings.HasPrefix(k, KeyPrefix) || k == SecretTypeLabel || k == ManagedByLabel
}
