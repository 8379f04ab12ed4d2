package v1alpha1

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, version and kinds of the Argo CD API objects hubctl reads and writes.
const (
	APIVersion         = "argoproj.io/v1alpha1"
	ApplicationKind    = "Application"
	ApplicationSetKind = "ApplicationSet"
	AppProjectKind     = "AppProject"

	// ResourcesFinalizer is the finalizer the ApplicationSet controller adds to
	// generated Applications unless resources are preserved on deletion.
	ResourcesFinalizer = "resources-finalizer.argocd.argoproj.io"
)

// ApplicationSet mirrors the JSON shape of Argo CD's ApplicationSet
// (pkg/apis/application/v1alpha1/applicationset_types.go). Status is accepted
// and ignored: exported live objects carry it.
type ApplicationSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ApplicationSetSpec `json:"spec"`
	Status            json.RawMessage    `json:"status,omitempty"`
}

// ApplicationSetSpec is the spec of an ApplicationSet.
type ApplicationSetSpec struct {
	GoTemplate                   bool                      `json:"goTemplate,omitempty"`
	Generators                   []ApplicationSetGenerator `json:"generators"`
	Template                     ApplicationSetTemplate    `json:"template"`
	SyncPolicy                   *ApplicationSetSyncPolicy `json:"syncPolicy,omitempty"`
	Strategy                     json.RawMessage           `json:"strategy,omitempty"`
	PreservedFields              json.RawMessage           `json:"preservedFields,omitempty"`
	GoTemplateOptions            []string                  `json:"goTemplateOptions,omitempty"`
	ApplyNestedSelectors         bool                      `json:"applyNestedSelectors,omitempty"`
	IgnoreApplicationDifferences json.RawMessage           `json:"ignoreApplicationDifferences,omitempty"`
	TemplatePatch                *string                   `json:"templatePatch,omitempty"`
}

// ApplicationSetSyncPolicy controls deletion and the sync policy override.
type ApplicationSetSyncPolicy struct {
	PreserveResourcesOnDeletion bool   `json:"preserveResourcesOnDeletion,omitempty"`
	ApplicationsSync            string `json:"applicationsSync,omitempty"`
}

// ApplicationSetTemplate is the Application template of an ApplicationSet or
// of one of its generators.
type ApplicationSetTemplate struct {
	ApplicationSetTemplateMeta `json:"metadata"`
	Spec                       ApplicationSpec `json:"spec"`
}

// ApplicationSetTemplateMeta is the subset of metadata a template may set.
type ApplicationSetTemplateMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Finalizers  []string          `json:"finalizers,omitempty"`
}

// ApplicationSetGenerator is one entry of spec.generators (top level).
type ApplicationSetGenerator struct {
	List                    *ListGenerator        `json:"list,omitempty"`
	Clusters                *ClusterGenerator     `json:"clusters,omitempty"`
	Git                     *GitGenerator         `json:"git,omitempty"`
	SCMProvider             json.RawMessage       `json:"scmProvider,omitempty"`
	ClusterDecisionResource json.RawMessage       `json:"clusterDecisionResource,omitempty"`
	PullRequest             json.RawMessage       `json:"pullRequest,omitempty"`
	Matrix                  *MatrixGenerator      `json:"matrix,omitempty"`
	Merge                   *MergeGenerator       `json:"merge,omitempty"`
	Selector                *metav1.LabelSelector `json:"selector,omitempty"`
	Plugin                  json.RawMessage       `json:"plugin,omitempty"`
}

// ApplicationSetNestedGenerator is a child of a top-level matrix or merge.
// Its own matrix/merge are kept raw, as upstream does, and decoded into
// NestedMatrixGenerator / NestedMergeGenerator.
type ApplicationSetNestedGenerator struct {
	List                    *ListGenerator        `json:"list,omitempty"`
	Clusters                *ClusterGenerator     `json:"clusters,omitempty"`
	Git                     *GitGenerator         `json:"git,omitempty"`
	SCMProvider             json.RawMessage       `json:"scmProvider,omitempty"`
	ClusterDecisionResource json.RawMessage       `json:"clusterDecisionResource,omitempty"`
	PullRequest             json.RawMessage       `json:"pullRequest,omitempty"`
	Matrix                  json.RawMessage       `json:"matrix,omitempty"`
	Merge                   json.RawMessage       `json:"merge,omitempty"`
	Selector                *metav1.LabelSelector `json:"selector,omitempty"`
	Plugin                  json.RawMessage       `json:"plugin,omitempty"`
}

// ApplicationSetTerminalGenerator is a child of a nested matrix or merge: it
// cannot nest further.
type ApplicationSetTerminalGenerator struct {
	List                    *ListGenerator        `json:"list,omitempty"`
	Clusters                *ClusterGenerator     `json:"clusters,omitempty"`
	Git                     *GitGenerator         `json:"git,omitempty"`
	SCMProvider             json.RawMessage       `json:"scmProvider,omitempty"`
	ClusterDecisionResource json.RawMessage       `json:"clusterDecisionResource,omitempty"`
	PullRequest             json.RawMessage       `json:"pullRequest,omitempty"`
	Selector                *metav1.LabelSelector `json:"selector,omitempty"`
	Plugin                  json.RawMessage       `json:"plugin,omitempty"`
}

// ListGenerator generates one parameter set per element.
type ListGenerator struct {
	Elements     []json.RawMessage      `json:"elements,omitempty"`
	Template     ApplicationSetTemplate `json:"template,omitempty"`
	ElementsYaml string                 `json:"elementsYaml,omitempty"`
}

// ClusterGenerator generates one parameter set per selected cluster Secret.
type ClusterGenerator struct {
	Selector metav1.LabelSelector   `json:"selector,omitempty"`
	Template ApplicationSetTemplate `json:"template,omitempty"`
	Values   map[string]string      `json:"values,omitempty"`
	FlatList bool                   `json:"flatList,omitempty"`
}

// GitGenerator generates parameters from directories or files of a Git repository.
type GitGenerator struct {
	RepoURL             string                      `json:"repoURL"`
	Directories         []GitDirectoryGeneratorItem `json:"directories,omitempty"`
	Files               []GitFileGeneratorItem      `json:"files,omitempty"`
	Revision            string                      `json:"revision"`
	RequeueAfterSeconds *int64                      `json:"requeueAfterSeconds,omitempty"`
	Template            ApplicationSetTemplate      `json:"template,omitempty"`
	PathParamPrefix     string                      `json:"pathParamPrefix,omitempty"`
	Values              map[string]string           `json:"values,omitempty"`
}

// GitDirectoryGeneratorItem is a directory pattern of the Git generator.
type GitDirectoryGeneratorItem struct {
	Path    string `json:"path"`
	Exclude bool   `json:"exclude,omitempty"`
}

// GitFileGeneratorItem is a file pattern of the Git generator.
type GitFileGeneratorItem struct {
	Path    string `json:"path"`
	Exclude bool   `json:"exclude,omitempty"`
}

// MatrixGenerator combines the parameters of exactly two child generators.
type MatrixGenerator struct {
	Generators []ApplicationSetNestedGenerator `json:"generators"`
	Template   ApplicationSetTemplate          `json:"template,omitempty"`
}

// MergeGenerator merges the parameters of its children by merge keys.
type MergeGenerator struct {
	Generators []ApplicationSetNestedGenerator `json:"generators"`
	MergeKeys  []string                        `json:"mergeKeys"`
	Template   ApplicationSetTemplate          `json:"template,omitempty"`
}

// NestedMatrixGenerator is a matrix inside a matrix or merge.
type NestedMatrixGenerator struct {
	Generators []ApplicationSetTerminalGenerator `json:"generators"`
}

// NestedMergeGenerator is a merge inside a matrix or merge.
type NestedMergeGenerator struct {
	Generators []ApplicationSetTerminalGenerator `json:"generators"`
	MergeKeys  []string                          `json:"mergeKeys"`
}

// ToNested widens a terminal generator to the nested shape.
func (t ApplicationSetTerminalGenerator) ToNested() ApplicationSetNestedGenerator {
	return ApplicationSetNestedGenerator{
		List: t.List, Clusters: t.Clusters, Git: t.Git, SCMProvider: t.SCMProvider,
		ClusterDecisionResource: t.ClusterDecisionResource, PullRequest: t.PullRequest,
		Selector: t.Selector, Plugin: t.Plugin,
	}
}
