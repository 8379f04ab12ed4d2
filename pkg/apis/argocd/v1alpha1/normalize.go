package v1alpha1

// DefaultAppProjectName is the project Argo CD assigns when spec.project is empty.
const DefaultAppProjectName = "default"

// NormalizeApplicationSpec normalizes spec in place the way Argo CD does before
// storing an Application (NormalizeApplicationSpec and NormalizeSource in
// github.com/argoproj/argo-cd/v3 util/argo/argo.go):
//
//   - an empty project becomes "default";
//   - a zero syncPolicy (see SyncPolicy.IsZero) is removed;
//   - when spec.sources is empty, zero helm and kustomize blocks of
//     spec.source are removed, and a zero directory block (see
//     ApplicationSourceDirectory.IsZero, which ignores exclude/include) is
//     removed unless it sets exclude or include: either one is enough, and
//     then only exclude and include are kept (upstream's switch over
//     "both set", "exclude set", "include set", default nil).
//
// Like upstream, spec.sources[i] are left untouched: upstream ranges over
// copies of them, so its normalisation of multi-source specs has no effect.
// spec.sourceHydrator is left alone too.
func NormalizeApplicationSpec(spec *ApplicationSpec) {
	if spec == nil {
		return
	}
	if spec.Project == "" {
		spec.Project = DefaultAppProjectName
	}
	if spec.SyncPolicy.IsZero() {
		spec.SyncPolicy = nil
	}
	if len(spec.Sources) == 0 {
		normalizeSource(spec.Source)
	}
}

func normalizeSource(s *ApplicationSource) {
	if s == nil {
		return
	}
	if s.Kustomize.IsZero() {
		s.Kustomize = nil
	}
	if s.Helm.IsZero() {
		s.Helm = nil
	}
	if d := s.Directory; d.IsZero() {
		if d != nil && (d.Exclude != "" || d.Include != "") {
			s.Directory = &ApplicationSourceDirectory{Exclude: d.Exclude, Include: d.Include}
		} else {
			s.Directory = nil
		}
	}
}
