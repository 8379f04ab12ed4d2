package loader

// Repository layout conventions of the GitOps tree.
const (
	// BootstrapDir holds the ApplicationSets and AppProjects.
	BootstrapDir = "bootstrap"
	// ClusterRegistry matches the cluster registry files.
	ClusterRegistry = "clusters/*/cluster.yaml"
)
