package loader

import "github.com/gitops-hub/gitops-hub/pkg/conventions"

// Repository layout conventions of the GitOps tree.
const (
	// BootstrapDir holds the ApplicationSets and AppProjects.
	BootstrapDir = conventions.BootstrapDir
	// ClusterRegistry matches the cluster registry files.
	ClusterRegistry = conventions.ClusterRegistry
)
