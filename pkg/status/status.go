// Package status reads the fleet's state from the hub: every Application with
// its cluster, the addon (ApplicationSet) that generated it, the cluster's
// environment, its sync status, health, last operation and the version it
// actually synced, and arranges them as a cluster × addon matrix.
//
// Field meanings follow Argo CD's Application status
// (argo-cd pkg/apis/application/v1alpha1/types.go: SyncStatus.Revision and
// Revisions are the revisions the last comparison was made against, one per
// source for a multi-source Application; RevisionHistory, oldest first, holds
// one entry per completed sync with its Revision(s) and Source(s); for a Helm
// chart source a revision is the chart version).
package status

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
)

// ApplicationsGVR is argoproj.io/v1alpha1 applications.
var ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// SecretsGVR is v1 secrets (Argo CD's cluster Secrets).
var SecretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Conventions of Argo CD and of this tree.
const (
	// ClusterSecretSelector selects Argo CD's cluster Secrets.
	ClusterSecretSelector = conventions.SecretTypeLabel + "=" + conventions.SecretTypeCluster
	// EnvironmentLabel is the cluster Secret's environment label.
	EnvironmentLabel = conventions.EnvironmentLabel
	// AddonLabel names the addon on the Applications the tree's
	// ApplicationSets generate (bootstrap/control-plane/addons/*/appset-*.yaml).
	AddonLabel = "gitops-hub.io/addon"
	// AppEnvironmentLabel is the environment the ApplicationSet copied onto
	// the Application; used only when the cluster Secret cannot be read.
	AppEnvironmentLabel = "gitops-hub.io/environment"
	// InClusterName and InClusterServer are Argo CD's implicit local cluster.
	InClusterName   = "in-cluster"
	InClusterServer = "https://kubernetes.default.svc"
)

// ErrArgoCDNotInstalled is returned (wrapped) when the hub does not serve the
// Application API.
var ErrArgoCDNotInstalled = errors.New("Argo CD is not installed on this cluster (it serves no applications.argoproj.io API): install it with `hubctl bootstrap`")

// App is the state of one Application.
type App struct {
	Name           string   `json:"name"`
	Namespace      string   `json:"namespace"`
	ApplicationSet string   `json:"applicationSet,omitempty"` // the ApplicationSet that generated it (owner reference); empty when none
	Addon          string   `json:"addon,omitempty"`          // the matrix column: label gitops-hub.io/addon, else the ApplicationSet's name
	Cluster        string   `json:"cluster"`
	Environment    string   `json:"environment,omitempty"`
	Sync           string   `json:"sync"`                    // Synced, OutOfSync, Unknown ("" before the first comparison)
	Health         string   `json:"health"`                  // Healthy, Progressing, Degraded, Missing, ...
	Operation      string   `json:"operation,omitempty"`     // phase of the last operation: Succeeded, Running, Failed, ...
	Version        string   `json:"version,omitempty"`       // what the cluster runs: the chart version, else the revision (see versions)
	TargetVersion  string   `json:"targetVersion,omitempty"` // the compared revision when another one runs
	Messages       []string `json:"messages,omitempty"`      // conditions, operation and health messages, one per entry
}

// Ready reports whether the Application is Synced and Healthy and its last
// operation (if any) succeeded.
func (a App) Ready() bool {
	return a.Synced() && a.Health == "Healthy"
}

// Synced reports whether the Application is Synced and its last operation
// (if any) succeeded, whatever its health.
func (a App) Synced() bool {
	return a.Sync == "Synced" && (a.Operation == "" || a.Operation == "Succeeded")
}

// Cluster is one row of the matrix: a registered cluster (cluster Secret) or
// a destination some Application names.
type Cluster struct {
	Name        string `json:"name"`
	Environment string `json:"environment,omitempty"`
	Registered  bool   `json:"registered"` // a cluster Secret exists in the hub (in-cluster is implicit)
}

// Fleet is the hub's state: the rows, the columns and every Application.
type Fleet struct {
	Hub      string    `json:"hub,omitempty"` // the hub's context, for titles
	Clusters []Cluster `json:"clusters"`
	Addons   []string  `json:"addons"`
	Apps     []App     `json:"applications"`
	// Warnings are problems reading the hub that did not stop the read.
	Warnings []string `json:"warnings,omitempty"`
	// Clients is the client's Argo CD on each registered hosting cluster, sorted by
	// cluster; nil when it was not read (status without --clients).
	Clients []ClientArgoCD `json:"clients,omitempty"`

	cells map[[2]string]int // (cluster, addon) -> index in Apps, built by assemble
}

// Summary counts ready Applications.
func (f *Fleet) Summary() (ready, total int) {
	return Summary(f.Apps)
}

// Summary counts ready Applications.
func Summary(apps []App) (ready, total int) {
	for _, a := range apps {
		if a.Ready() {
			ready++
		}
	}
	return ready, len(apps)
}

// Cell is the Application of one cluster and addon, if any.
func (f *Fleet) Cell(cluster, addon string) (App, bool) {
	if f.cells != nil {
		i, ok := f.cells[[2]string{cluster, addon}]
		if !ok {
			return App{}, false
		}
		return f.Apps[i], true
	}
	for _, a := range f.Apps {
		if a.Addon == addon && a.Cluster == cluster {
			return a, true
		}
	}
	return App{}, false
}

// Others are the Applications no ApplicationSet generated (the root
// Application, hand-made ones), listed apart from the matrix.
func (f *Fleet) Others() []App {
	var out []App
	for _, a := range f.Apps {
		if a.Addon == "" {
			out = append(out, a)
		}
	}
	return out
}

// Problems are the Applications that are not Synced and Healthy.
func (f *Fleet) Problems() []App {
	var out []App
	for _, a := range f.Apps {
		if !a.Ready() {
			out = append(out, a)
		}
	}
	return out
}

// Read lists the Applications and the cluster Secrets of namespace on the hub
// and builds the fleet. A hub without the Application API gives
// ErrArgoCDNotInstalled; a hub where the cluster Secrets cannot be listed
// (RBAC) still gives the matrix, with environments from the Applications'
// labels and a warning.
func Read(ctx context.Context, hub dynamic.Interface, namespace string) (*Fleet, error) {
	f, _, _, err := read(ctx, hub, namespace)
	return f, err
}

// read is Read, and also returns the warnings of the read itself and whether
// the cluster Secrets could be listed.
func read(ctx context.Context, hub dynamic.Interface, namespace string) (f *Fleet, readWarnings []string, secretsReadable bool, err error) {
	apps, err := hub.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, false, listError(err, "applications.argoproj.io", namespace)
	}
	secrets, err := hub.Resource(SecretsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: ClusterSecretSelector})
	var secretItems []unstructured.Unstructured
	switch {
	case err == nil:
		secretItems, secretsReadable = secrets.Items, true
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		readWarnings = append(readWarnings, fmt.Sprintf("cannot list the cluster Secrets in namespace %s (%v): environments come from the Applications' %s label", namespace, err, AppEnvironmentLabel))
	default:
		return nil, nil, false, listError(err, "secrets -l "+ClusterSecretSelector, namespace)
	}
	f = Build(ptrs(apps.Items), ptrs(secretItems))
	f.Warnings = append(append([]string(nil), readWarnings...), f.Warnings...)
	return f, readWarnings, secretsReadable, nil
}

// listError names the API call; a missing Application API means Argo CD is
// not installed.
func listError(err error, what, namespace string) error {
	if what == "applications.argoproj.io" && (apierrors.IsNotFound(err) || isNoMatch(err)) {
		return fmt.Errorf("list %s in namespace %s: %w (%v)", what, namespace, ErrArgoCDNotInstalled, err)
	}
	return fmt.Errorf("list %s in namespace %s: %w", what, namespace, err)
}

func isNoMatch(err error) bool {
	return strings.Contains(err.Error(), "no matches for kind") || strings.Contains(err.Error(), "could not find the requested resource")
}

func ptrs(items []unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// List reads every Application of namespace from the hub, sorted by name.
func List(ctx context.Context, hub dynamic.Interface, namespace string) ([]App, error) {
	l, err := hub.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, listError(err, "applications.argoproj.io", namespace)
	}
	return Build(ptrs(l.Items), nil).Apps, nil
}

// clusterSecret is what status keeps of a cluster Secret: never its
// credentials.
type clusterSecret struct {
	name, server, environment string
}

func readClusterSecret(u *unstructured.Unstructured) clusterSecret {
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	dec := func(k string) string {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil {
			return ""
		}
		return string(b)
	}
	s := clusterSecret{name: dec("name"), server: strings.TrimSuffix(dec("server"), "/"), environment: u.GetLabels()[EnvironmentLabel]}
	if s.name == "" {
		s.name = u.GetName()
	}
	return s
}

// Build arranges Applications and cluster Secrets (as the API returns them)
// into a fleet. Rows are the registered clusters and every destination an
// Application names; columns the addons of the Applications an
// ApplicationSet generated.
func Build(apps, secrets []*unstructured.Unstructured) *Fleet {
	byName, byServer := map[string]clusterSecret{}, map[string]clusterSecret{}
	for _, u := range secrets {
		s := readClusterSecret(u)
		byName[s.name] = s
		if s.server != "" {
			byServer[s.server] = s
		}
	}
	var registered []Cluster
	for _, s := range byName {
		registered = append(registered, Cluster{Name: s.name, Environment: s.environment, Registered: true})
	}
	out := make([]App, 0, len(apps))
	for _, u := range apps {
		a := fromObject(u)
		// The destination: by name, else by server (Argo CD accepts either).
		server := strings.TrimSuffix(str(u.Object, "spec", "destination", "server"), "/")
		if a.Cluster == "" {
			if s, ok := byServer[server]; ok {
				a.Cluster = s.name
			} else if server == InClusterServer {
				a.Cluster = InClusterName
			} else {
				a.Cluster = server
			}
		}
		if s, ok := byName[a.Cluster]; ok && s.environment != "" {
			a.Environment = s.environment
		} else {
			a.Environment = u.GetLabels()[AppEnvironmentLabel]
		}
		out = append(out, a)
	}
	return assemble(out, registered)
}

// FleetOf arranges Applications already read into a fleet (rows from their
// destinations only).
func FleetOf(apps []App) *Fleet {
	return assemble(append([]App(nil), apps...), nil)
}

func assemble(apps []App, registered []Cluster) *Fleet {
	f := &Fleet{Clusters: []Cluster{}, Addons: []string{}, Apps: apps}
	if f.Apps == nil {
		f.Apps = []App{}
	}
	rows := map[string]*Cluster{}
	for _, c := range registered {
		rows[c.Name] = &c
	}
	addons := map[string]bool{}
	for _, a := range apps {
		if a.Addon == "" {
			continue // listed apart: no row of its own
		}
		if rows[a.Cluster] == nil {
			rows[a.Cluster] = &Cluster{Name: a.Cluster, Environment: a.Environment, Registered: a.Cluster == InClusterName}
		} else if rows[a.Cluster].Environment == "" {
			rows[a.Cluster].Environment = a.Environment
		}
		addons[a.Addon] = true
	}
	for _, c := range rows {
		f.Clusters = append(f.Clusters, *c)
	}
	sort.Slice(f.Clusters, func(i, j int) bool { return f.Clusters[i].Name < f.Clusters[j].Name })
	for a := range addons {
		f.Addons = append(f.Addons, a)
	}
	sort.Strings(f.Addons)
	sort.Slice(f.Apps, func(i, j int) bool { return f.Apps[i].Name < f.Apps[j].Name })
	// Two Applications in one cell (two ApplicationSets labelling the same
	// addon) would hide one: say so.
	f.cells = map[[2]string]int{}
	for i, a := range f.Apps {
		if a.Addon == "" {
			continue
		}
		k := [2]string{a.Cluster, a.Addon}
		if j, ok := f.cells[k]; ok {
			other := f.Apps[j].Name
			f.Warnings = append(f.Warnings, fmt.Sprintf("Applications %s and %s are both addon %s on cluster %s: the matrix shows %s", other, a.Name, a.Addon, a.Cluster, other))
			continue
		}
		f.cells[k] = i
	}
	return f
}

func str(o map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(o, path...)
	return s
}

func fromObject(u *unstructured.Unstructured) App {
	o := u.Object
	a := App{
		Name:      u.GetName(),
		Namespace: u.GetNamespace(),
		Cluster:   str(o, "spec", "destination", "name"),
		Sync:      str(o, "status", "sync", "status"),
		Health:    str(o, "status", "health", "status"),
		Operation: str(o, "status", "operationState", "phase"),
	}
	for _, ref := range u.GetOwnerReferences() {
		if ref.Kind == "ApplicationSet" && strings.HasPrefix(ref.APIVersion, "argoproj.io/") {
			a.ApplicationSet = ref.Name
		}
	}
	if a.ApplicationSet != "" {
		a.Addon = u.GetLabels()[AddonLabel]
		if a.Addon == "" {
			a.Addon = a.ApplicationSet
		}
	}
	a.Version, a.TargetVersion = versions(o, a.Sync)
	a.Messages = messages(o, a.Operation)
	return a
}

// versions returns the version the cluster runs and, when another one is
// pending, that one, each for the chart source when there is one. A Synced
// Application runs what it was last compared to (status.sync: the live state
// matches it, even when a new Git commit changed nothing and no sync ran);
// otherwise it runs what the last completed sync deployed (the newest
// status.history entry) and the compared revision is pending. The spec's
// targetRevision is never used: it may be a range or a branch.
func versions(o map[string]any, sync string) (running, pending string) {
	syncStatus, _, _ := unstructured.NestedMap(o, "status", "sync")
	comparedTo, _, _ := unstructured.NestedMap(o, "status", "sync", "comparedTo")
	compared := pick(o, syncStatus, comparedTo)
	if sync == "Synced" && compared != "" {
		return compared, ""
	}
	if hist, _, _ := unstructured.NestedSlice(o, "status", "history"); len(hist) > 0 {
		if last, ok := hist[len(hist)-1].(map[string]any); ok {
			running = pick(o, last, last)
		}
	}
	if compared != running {
		pending = compared
	}
	return running, pending
}

// pick reads revision/revisions of node and the matching source/sources of
// srcNode (else of the Application app's spec), and returns the chart
// source's revision, else the first non-ref source's, shortened when it is a
// Git commit.
func pick(app, node, srcNode map[string]any) string {
	if revs, ok, _ := unstructured.NestedStringSlice(node, "revisions"); ok && len(revs) > 0 {
		srcs, _, _ := unstructured.NestedSlice(srcNode, "sources")
		if len(srcs) != len(revs) {
			srcs, _, _ = unstructured.NestedSlice(app, "spec", "sources")
		}
		if i := sourceIndex(srcs); i < len(revs) {
			return short(revs[i])
		}
		return short(revs[0])
	}
	return short(str(node, "revision"))
}

// sourceIndex is the index of the chart source, else of the first source
// that is not only a values reference, else 0.
func sourceIndex(srcs []any) int {
	first := -1
	for i, s := range srcs {
		m, _ := s.(map[string]any)
		if c, _ := m["chart"].(string); c != "" {
			return i
		}
		if _, isRef := m["ref"]; !isRef && first < 0 {
			first = i
		}
	}
	if first < 0 {
		return 0
	}
	return first
}

var commitSHA = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

func short(rev string) string {
	if commitSHA.MatchString(rev) {
		return rev[:7]
	}
	return rev
}

// messages are the Application's conditions, its operation's message when
// the operation did not succeed, and its health message: one entry each,
// trimmed.
func messages(o map[string]any, operation string) []string {
	var out []string
	add := func(prefix, msg string) {
		if msg = strings.TrimSpace(msg); msg != "" {
			out = append(out, prefix+": "+msg)
		}
	}
	conds, _, _ := unstructured.NestedSlice(o, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		t, _ := m["type"].(string)
		msg, _ := m["message"].(string)
		add(orDefault(t, "Condition"), msg)
	}
	if operation != "" && operation != "Succeeded" {
		add("operation "+operation, str(o, "status", "operationState", "message"))
	}
	add("health", str(o, "status", "health", "message"))
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Refresh asks Argo CD to refresh every Application of namespace now, with
// the annotation argocd.argoproj.io/refresh ("normal" or "hard": a hard
// refresh also bypasses the repo-server's caches).
func Refresh(ctx context.Context, hub dynamic.Interface, namespace, kind string) error {
	l, err := hub.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing Applications to refresh: %w", err)
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":%q}}}`, kind))
	for _, it := range l.Items {
		if _, err := hub.Resource(ApplicationsGVR).Namespace(namespace).Patch(ctx, it.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("refreshing Application %s: %w", it.GetName(), err)
		}
	}
	return nil
}
