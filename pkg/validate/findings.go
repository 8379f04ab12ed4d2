// Package validate checks a GitOps tree offline for mistakes that Argo CD
// accepts silently or only reports at sync time: registry entries no
// ApplicationSet selects, values that are never read, projects that refuse
// what they are asked to deploy, committed credentials. Each check is a
// rule with an id (docs/validate.md); a finding names the file a user must
// edit and, where known, the line.
package validate

import (
	"cmp"
	"slices"
)

// Severity of a finding: an error fails the gate, a warning does not.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem found in the tree.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// File is the path inside the repository of the file to edit.
	File string `json:"file"`
	// Line is the 1-based line in File, 0 when unknown.
	Line int `json:"line"`
	// Object names what the finding is about ("Secret/cluster-a",
	// "ApplicationSet/addons-argocd", "Application/addon-x").
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Rule describes one check.
type Rule struct {
	ID       string
	Severity Severity
	// Rationale is one line: why the rule exists.
	Rationale string
}

// Rule ids.
const (
	RuleUnusedEnableLabel       = "unused-enable-label"
	RuleUnknownEnvironment      = "unknown-environment"
	RuleClusterDirMismatch      = "cluster-dir-mismatch"
	RuleDuplicateCluster        = "duplicate-cluster"
	RuleMissingClusterMetadata  = "missing-cluster-metadata"
	RuleOrphanValues            = "orphan-values"
	RuleValuesNotYAML           = "values-not-yaml"
	RuleUnknownProject          = "unknown-project"
	RuleDestinationNotPermitted = "destination-not-permitted"
	RuleSourceNotPermitted      = "source-not-permitted"
	RuleDuplicateApplication    = "duplicate-application"
	RuleInvalidApplication      = "invalid-application"
	RuleDeletesResources        = "deletes-resources"
	RuleAutoPrune               = "auto-prune"
	RuleFloatingChartVersion    = "floating-chart-version"
	RuleCommittedCredentials    = "committed-credentials"
	RuleRenderFailed            = "render-failed"
	RuleRemovedAPI              = "removed-api"
	RuleDeprecatedAPI           = "deprecated-api"
	RuleSchema                  = "schema"
	RuleCRDSchema               = "crd-schema"
)

// Rules returns every rule, in documentation order. The last five only run
// with rendering (Options.Render).
func Rules() []Rule {
	return []Rule{
		{RuleUnusedEnableLabel, Error, "an enable_* label that no ApplicationSet selects deploys nothing: usually a typo"},
		{RuleUnknownEnvironment, Error, "an environment label without an environments/<env>/ layer silently loses that environment's values"},
		{RuleClusterDirMismatch, Error, "values under clusters/<dir>/ are read by cluster name: a directory named otherwise is silently ignored"},
		{RuleDuplicateCluster, Error, "two registry entries with one Secret name, server or cluster name overwrite each other on the hub"},
		{RuleMissingClusterMetadata, Error, "a label or annotation an ApplicationSet template reads renders as empty on a cluster that lacks it"},
		{RuleOrphanValues, Error, "a values directory for a chart no ApplicationSet deploys is never read: usually a misspelled chart"},
		{RuleValuesNotYAML, Error, "Helm fails the render of every Application that reads a values file that is not a YAML map"},
		{RuleUnknownProject, Error, "an Application whose AppProject does not exist is never synced"},
		{RuleDestinationNotPermitted, Error, "an AppProject that does not allow the destination fails the sync"},
		{RuleSourceNotPermitted, Error, "an AppProject that does not allow a source repository fails the sync"},
		{RuleDuplicateApplication, Error, "two ApplicationSets generating one Application name overwrite each other's Application"},
		{RuleInvalidApplication, Error, "the ApplicationSet controller refuses to create this Application, or the whole ApplicationSet"},
		{RuleDeletesResources, Warning, "without preserveResourcesOnDeletion, removing a cluster or an ApplicationSet deletes what it deployed"},
		{RuleAutoPrune, Warning, "automated prune deletes live objects as soon as they disappear from Git, a rename included"},
		{RuleFloatingChartVersion, Warning, "a floating chart version (*, a range, empty) changes what is deployed without a commit"},
		{RuleCommittedCredentials, Error, "credentials in Git are readable by everyone who can read the repository, forever"},
		{RuleRenderFailed, Error, "an Application that cannot be rendered cannot be synced"},
		{RuleRemovedAPI, Error, "an object of an API version the cluster's Kubernetes no longer serves fails to apply"},
		{RuleDeprecatedAPI, Warning, "an object of a deprecated API version breaks on a later Kubernetes upgrade"},
		{RuleSchema, Error, "an object the Kubernetes API schema rejects fails to apply"},
		{RuleCRDSchema, Error, "a custom resource its CustomResourceDefinition (rendered alongside) rejects fails to apply"},
	}
}

// RuleByID returns the rule with id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Report is the outcome of a validation.
type Report struct {
	Findings []Finding `json:"findings"`
}

// HasErrors reports whether any finding is an error.
func (r *Report) HasErrors() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == Error })
}

// sort orders findings by file, line, rule, object and message, and drops
// exact duplicates.
func (r *Report) sort() {
	slices.SortFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Object, b.Object), cmp.Compare(a.Message, b.Message))
	})
	r.Findings = slices.Compact(r.Findings)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
}

// add records a finding with the rule's severity.
func (r *Report) add(rule, file string, line int, object, format string, args ...any) {
	rl, _ := RuleByID(rule)
	r.Findings = append(r.Findings, Finding{Rule: rule, Severity: rl.Severity, File: file, Line: line, Object: object, Message: sprintf(format, args...)})
}
