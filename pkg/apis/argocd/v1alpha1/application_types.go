package v1alpha1

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// This file mirrors the JSON shape of the spec side of Argo CD's Application
// (github.com/argoproj/argo-cd/v3, pkg/apis/application/v1alpha1/types.go).
// Field names and omitempty/omitzero flags follow upstream exactly, because
// hubctl reproduces upstream's serialisation. Status and Operation are not
// modelled: hubctl only generates and prints specs.

// Application is an Argo CD Application (spec only).
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ApplicationSpec `json:"spec"`
}

// ApplicationSpec is the desired state of an Application.
type ApplicationSpec struct {
	Source               *ApplicationSource     `json:"source,omitempty"`
	Destination          ApplicationDestination `json:"destination"`
	Project              string                 `json:"project"`
	SyncPolicy           *SyncPolicy            `json:"syncPolicy,omitempty"`
	IgnoreDifferences    IgnoreDifferences      `json:"ignoreDifferences,omitempty"`
	Info                 []Info                 `json:"info,omitempty"`
	RevisionHistoryLimit *int64                 `json:"revisionHistoryLimit,omitempty"`
	Sources              ApplicationSources     `json:"sources,omitempty"`
	SourceHydrator       *SourceHydrator        `json:"sourceHydrator,omitempty"`
}

// IgnoreDifferences lists resource fields ignored when diffing.
type IgnoreDifferences []ResourceIgnoreDifferences

// ResourceIgnoreDifferences selects resources and the fields of them to ignore.
type ResourceIgnoreDifferences struct {
	Group                 string   `json:"group,omitempty"`
	Kind                  string   `json:"kind"`
	Name                  string   `json:"name,omitempty"`
	Namespace             string   `json:"namespace,omitempty"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// Info is a name/value pair shown in the Application details.
type Info struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ApplicationDestination is the target cluster (by server URL or name) and namespace.
type ApplicationDestination struct {
	Server    string `json:"server,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// ApplicationSources is the list form of spec.sources.
type ApplicationSources []ApplicationSource

// ApplicationSource locates manifests in a Git, Helm or OCI repository.
type ApplicationSource struct {
	RepoURL        string                      `json:"repoURL"`
	Path           string                      `json:"path,omitempty"`
	TargetRevision string                      `json:"targetRevision,omitempty"`
	Helm           *ApplicationSourceHelm      `json:"helm,omitempty"`
	Kustomize      *ApplicationSourceKustomize `json:"kustomize,omitempty"`
	Directory      *ApplicationSourceDirectory `json:"directory,omitempty"`
	Plugin         *ApplicationSourcePlugin    `json:"plugin,omitempty"`
	Chart          string                      `json:"chart,omitempty"`
	Ref            string                      `json:"ref,omitempty"`
	Name           string                      `json:"name,omitempty"`
}

// ApplicationSourceHelm holds Helm options.
type ApplicationSourceHelm struct {
	ValueFiles              []string              `json:"valueFiles,omitempty"`
	Parameters              []HelmParameter       `json:"parameters,omitempty"`
	ReleaseName             string                `json:"releaseName,omitempty"`
	Values                  string                `json:"values,omitempty"`
	FileParameters          []HelmFileParameter   `json:"fileParameters,omitempty"`
	Version                 string                `json:"version,omitempty"`
	PassCredentials         bool                  `json:"passCredentials,omitempty"`
	IgnoreMissingValueFiles bool                  `json:"ignoreMissingValueFiles,omitempty"`
	SkipCrds                bool                  `json:"skipCrds,omitempty"`
	ValuesObject            *runtime.RawExtension `json:"valuesObject,omitempty"`
	Namespace               string                `json:"namespace,omitempty"`
	KubeVersion             string                `json:"kubeVersion,omitempty"`
	APIVersions             []string              `json:"apiVersions,omitempty"`
	SkipTests               bool                  `json:"skipTests,omitempty"`
	SkipSchemaValidation    bool                  `json:"skipSchemaValidation,omitempty"`
}

// HelmParameter is a --set style Helm parameter.
type HelmParameter struct {
	Name        string `json:"name,omitempty"`
	Value       string `json:"value,omitempty"`
	ForceString bool   `json:"forceString,omitempty"`
}

// HelmFileParameter is a --set-file style Helm parameter.
type HelmFileParameter struct {
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
}

// IsZero reports whether h sets no Helm option, with upstream's semantics
// (ApplicationSourceHelm.IsZero).
func (h *ApplicationSourceHelm) IsZero() bool {
	return h == nil ||
		h.Version == "" && h.ReleaseName == "" &&
			len(h.ValueFiles) == 0 && len(h.Parameters) == 0 && len(h.FileParameters) == 0 &&
			h.valuesIsEmpty() &&
			!h.PassCredentials && !h.IgnoreMissingValueFiles && !h.SkipCrds && !h.SkipTests && !h.SkipSchemaValidation &&
			h.KubeVersion == "" && len(h.APIVersions) == 0 && h.Namespace == ""
}

// valuesIsEmpty follows upstream's ValuesIsEmpty (values.go): valuesObject,
// when it holds bytes, takes precedence over values and counts as empty only
// if it cannot be rendered as YAML.
func (h *ApplicationSourceHelm) valuesIsEmpty() bool {
	if h.ValuesObject == nil || h.ValuesObject.Raw == nil {
		return h.Values == ""
	}
	out, err := yaml.JSONToYAML(h.ValuesObject.Raw)
	return err != nil || len(out) == 0
}

// KustomizeImage is an image override: [old_image_name=]<image_name>:<image_tag>.
type KustomizeImage string

// KustomizeImages is a list of image overrides.
type KustomizeImages []KustomizeImage

// KustomizeReplicas is a list of replica overrides.
type KustomizeReplicas []KustomizeReplica

// KustomizePatches is a list of Kustomize patches.
type KustomizePatches []KustomizePatch

// ApplicationSourceKustomize holds Kustomize options.
type ApplicationSourceKustomize struct {
	NamePrefix                string            `json:"namePrefix,omitempty"`
	NameSuffix                string            `json:"nameSuffix,omitempty"`
	Images                    KustomizeImages   `json:"images,omitempty"`
	CommonLabels              map[string]string `json:"commonLabels,omitempty"`
	Version                   string            `json:"version,omitempty"`
	CommonAnnotations         map[string]string `json:"commonAnnotations,omitempty"`
	ForceCommonLabels         bool              `json:"forceCommonLabels,omitempty"`
	ForceCommonAnnotations    bool              `json:"forceCommonAnnotations,omitempty"`
	Namespace                 string            `json:"namespace,omitempty"`
	CommonAnnotationsEnvsubst bool              `json:"commonAnnotationsEnvsubst,omitempty"`
	Replicas                  KustomizeReplicas `json:"replicas,omitempty"`
	Patches                   KustomizePatches  `json:"patches,omitempty"`
	Components                []string          `json:"components,omitempty"`
	IgnoreMissingComponents   bool              `json:"ignoreMissingComponents,omitempty"`
	LabelWithoutSelector      bool              `json:"labelWithoutSelector,omitempty"`
	KubeVersion               string            `json:"kubeVersion,omitempty"`
	APIVersions               []string          `json:"apiVersions,omitempty"`
	LabelIncludeTemplates     bool              `json:"labelIncludeTemplates,omitempty"`
}

// KustomizeReplica overrides the replica count of a Deployment or StatefulSet.
type KustomizeReplica struct {
	Name  string             `json:"name"`
	Count intstr.IntOrString `json:"count"`
}

// KustomizePatch is an inline or file patch with an optional target.
type KustomizePatch struct {
	Path    string             `json:"path,omitempty"`
	Patch   string             `json:"patch,omitempty"`
	Target  *KustomizeSelector `json:"target,omitempty"`
	Options map[string]bool    `json:"options,omitempty"`
}

// KustomizeSelector selects the resources a patch applies to.
type KustomizeSelector struct {
	KustomizeResId     `json:",inline"`
	AnnotationSelector string `json:"annotationSelector,omitempty"`
	LabelSelector      string `json:"labelSelector,omitempty"`
}

// KustomizeResId identifies a resource by GVK, name and namespace.
type KustomizeResId struct {
	KustomizeGvk `json:",inline"`
	Name         string `json:"name,omitempty"`
	Namespace    string `json:"namespace,omitempty"`
}

// KustomizeGvk is a group/version/kind.
type KustomizeGvk struct {
	Group   string `json:"group,omitempty"`
	Version string `json:"version,omitempty"`
	Kind    string `json:"kind,omitempty"`
}

// IsZero reports whether k sets no Kustomize option, with upstream's semantics
// (ApplicationSourceKustomize.IsZero). As upstream, the boolean switches
// forceCommon*, commonAnnotationsEnvsubst, labelWithoutSelector and
// labelIncludeTemplates do not count.
func (k *ApplicationSourceKustomize) IsZero() bool {
	return k == nil ||
		k.NamePrefix == "" && k.NameSuffix == "" && k.Version == "" && k.Namespace == "" &&
			len(k.Images) == 0 && len(k.Replicas) == 0 &&
			len(k.CommonLabels) == 0 && len(k.CommonAnnotations) == 0 &&
			len(k.Patches) == 0 && len(k.Components) == 0 &&
			k.KubeVersion == "" && len(k.APIVersions) == 0 &&
			!k.IgnoreMissingComponents
}

// ApplicationSourceDirectory holds options for plain YAML and Jsonnet directories.
type ApplicationSourceDirectory struct {
	Recurse bool `json:"recurse,omitempty"`
	// Jsonnet is a value, dropped when empty (upstream uses omitzero so that
	// no "jsonnet: {}" is printed).
	Jsonnet ApplicationSourceJsonnet `json:"jsonnet,omitzero"`
	Exclude string                   `json:"exclude,omitempty"`
	Include string                   `json:"include,omitempty"`
}

// IsZero reports whether d sets neither recurse nor Jsonnet options; as
// upstream, exclude and include are not considered.
func (d *ApplicationSourceDirectory) IsZero() bool {
	return d == nil || !d.Recurse && d.Jsonnet.IsZero()
}

// ApplicationSourceJsonnet holds Jsonnet options.
type ApplicationSourceJsonnet struct {
	ExtVars []JsonnetVar `json:"extVars,omitempty"`
	TLAs    []JsonnetVar `json:"tlas,omitempty"`
	Libs    []string     `json:"libs,omitempty"`
}

// IsZero reports whether j sets no Jsonnet option. encoding/json's omitzero
// uses it.
func (j *ApplicationSourceJsonnet) IsZero() bool {
	return j == nil || len(j.ExtVars) == 0 && len(j.TLAs) == 0 && len(j.Libs) == 0
}

// JsonnetVar is an external variable or top-level argument.
type JsonnetVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Code  bool   `json:"code,omitempty"`
}

// ApplicationSourcePlugin holds config management plugin options.
type ApplicationSourcePlugin struct {
	Name       string                            `json:"name,omitempty"`
	Env        Env                               `json:"env,omitempty"`
	Parameters ApplicationSourcePluginParameters `json:"parameters,omitempty"`
}

// Env is a list of environment variables passed to a plugin.
type Env []*EnvEntry

// EnvEntry is one environment variable.
type EnvEntry struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ApplicationSourcePluginParameters is the list of plugin parameters.
type ApplicationSourcePluginParameters []ApplicationSourcePluginParameter

// ApplicationSourcePluginParameter is a named plugin parameter holding a
// string, an array and/or a map. The map and array are wrapped in pointers to
// structs, embedded so that their "map"/"array" keys sit beside "name": a
// non-nil wrapper means the key is present, even with an empty value.
// Decoding needs no custom code: the embedded layout is upstream's, so plain
// encoding/json decodes it as upstream does (including strict decoding).
type ApplicationSourcePluginParameter struct {
	Name   string  `json:"name,omitempty"`
	String *string `json:"string,omitempty"`
	*OptionalMap
	*OptionalArray
}

// OptionalMap is the value of a map parameter.
type OptionalMap struct {
	Map map[string]string `json:"map"`
}

// OptionalArray is the value of an array parameter.
type OptionalArray struct {
	Array []string `json:"array"`
}

// MarshalJSON reproduces upstream's encoding: "name" is always written (even
// empty), "string" when set, and "map"/"array" when their wrapper is set, as
// {} / [] rather than null when the wrapped value is nil.
func (p ApplicationSourcePluginParameter) MarshalJSON() ([]byte, error) {
	out := map[string]any{"name": p.Name}
	if p.String != nil {
		out["string"] = *p.String
	}
	if p.OptionalMap != nil {
		m := p.Map
		if m == nil {
			m = map[string]string{}
		}
		out["map"] = m
	}
	if p.OptionalArray != nil {
		a := p.Array
		if a == nil {
			a = []string{}
		}
		out["array"] = a
	}
	return json.Marshal(out)
}

// SourceHydrator renders a dry source and commits the result to a branch
// from which the Application syncs.
type SourceHydrator struct {
	DrySource  DrySource  `json:"drySource"`
	SyncSource SyncSource `json:"syncSource"`
	HydrateTo  *HydrateTo `json:"hydrateTo,omitempty"`
}

// DrySource is the unrendered source of a SourceHydrator.
type DrySource struct {
	RepoURL        string                      `json:"repoURL"`
	TargetRevision string                      `json:"targetRevision"`
	Path           string                      `json:"path"`
	Helm           *ApplicationSourceHelm      `json:"helm,omitempty"`
	Kustomize      *ApplicationSourceKustomize `json:"kustomize,omitempty"`
	Directory      *ApplicationSourceDirectory `json:"directory,omitempty"`
	Plugin         *ApplicationSourcePlugin    `json:"plugin,omitempty"`
}

// SyncSource is where hydrated manifests are synced from.
type SyncSource struct {
	TargetBranch string `json:"targetBranch"`
	Path         string `json:"path"`
}

// HydrateTo is an optional staging branch for hydrated manifests.
type HydrateTo struct {
	TargetBranch string `json:"targetBranch"`
}

// SyncOptions are sync options such as "CreateNamespace=true".
type SyncOptions []string

// SyncPolicy controls when and how an Application syncs.
type SyncPolicy struct {
	Automated                *SyncPolicyAutomated      `json:"automated,omitempty"`
	SyncOptions              SyncOptions               `json:"syncOptions,omitempty"`
	Retry                    *RetryStrategy            `json:"retry,omitempty"`
	ManagedNamespaceMetadata *ManagedNamespaceMetadata `json:"managedNamespaceMetadata,omitempty"`
}

// IsZero reports whether p sets nothing, with upstream's semantics
// (SyncPolicy.IsZero): an empty automated: {} is not zero.
func (p *SyncPolicy) IsZero() bool {
	return p == nil ||
		p.Automated == nil && len(p.SyncOptions) == 0 && p.Retry == nil && p.ManagedNamespaceMetadata == nil
}

// SyncPolicyAutomated configures automated sync. Enabled nil means enabled.
type SyncPolicyAutomated struct {
	Prune      bool  `json:"prune,omitempty"`
	SelfHeal   bool  `json:"selfHeal,omitempty"`
	AllowEmpty bool  `json:"allowEmpty,omitempty"`
	Enabled    *bool `json:"enabled,omitempty"`
}

// RetryStrategy controls retries of failed syncs.
type RetryStrategy struct {
	Limit   int64    `json:"limit,omitempty"`
	Backoff *Backoff `json:"backoff,omitempty"`
	Refresh bool     `json:"refresh,omitempty"`
}

// Backoff is the delay between sync retries.
type Backoff struct {
	Duration    string `json:"duration,omitempty"`
	Factor      *int64 `json:"factor,omitempty"`
	MaxDuration string `json:"maxDuration,omitempty"`
}

// ManagedNamespaceMetadata is set on the namespace created by CreateNamespace=true.
type ManagedNamespaceMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}
