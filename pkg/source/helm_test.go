package source

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

const (
	valuesRepo = "https://github.com/gitops-hub/gitops-hub.git"
	chartRepo  = "https://argoproj.github.io/argo-helm"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// valuesFS is a values repository laid out like this one.
func valuesFS() fstest.MapFS {
	return fstest.MapFS{
		"environments/default/addons/argo-cd/values.yaml":                  file("layer: default\nreplicas: 1\nconfigs:\n  cm:\n    a: default\n    b: default\n"),
		"environments/develop/addons/argo-cd/values.yaml":                  file("layer: develop\nconfigs:\n  cm:\n    b: develop\n"),
		"clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml": file("layer: cluster\nreplicas: 3\n"),
		"clusters/eks-develop-clientA-services/addons/argo-cd/broken.yaml": file("a: [unclosed\n"),
		"clusters/eks-develop-clientA-services/addons/argo-cd/list.yaml":   file("- a\n- b\n"),
		"envs/a.yaml":                       file("foo: a\n"),
		"envs/b.yaml":                       file("foo: b\n"),
		"envs/prod.yaml":                    file("foo: prod\n"),
		"envs/z.yaml":                       file("foo: z\n"),
		"envs/nested/c.yaml":                file("foo: nested\n"),
		"envs/.hidden.yaml":                 file("foo: hidden\n"),
		"certs/ca.pem":                      file("-----BEGIN CERTIFICATE-----\n"),
		"charts/app/Chart.yaml":             file("name: app\n"),
		"charts/app/values.yaml":            file("a: 1\n"),
		"charts/app/values-prod.yaml":       file("a: 2\n"),
		"charts/common/values.yaml":         file("common: true\n"),
		"link-in.yaml":                      &fstest.MapFile{Data: []byte("envs/a.yaml"), Mode: fs.ModeSymlink},
		"link-out.yaml":                     &fstest.MapFile{Data: []byte("../../etc/passwd"), Mode: fs.ModeSymlink},
		"envlinks/ok.yaml":                  &fstest.MapFile{Data: []byte("../envs/b.yaml"), Mode: fs.ModeSymlink},
		"envlinks/out.yaml":                 &fstest.MapFile{Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink},
		"environments/develop/not-yaml.txt": file("just: [text\n"),
	}
}

// chartFS stands for the files of a chart pulled from a Helm repository.
func chartFS() fstest.MapFS {
	return fstest.MapFS{
		"Chart.yaml":             file("name: argo-cd\nversion: 10.1.1\n"),
		"values.yaml":            file("replicas: 1\n"),
		"ci/test-values.yaml":    file("ci: true\n"),
		"templates/_helpers.tpl": file(""),
	}
}

func testRepos() *Repos {
	r := &Repos{}
	r.Add(valuesRepo, valuesFS())
	return r
}

// multiApp is the shape of this repository's Applications: a `ref: values`
// Git source, then the chart with $values value files.
func multiApp(h *v1alpha1.ApplicationSourceHelm) *v1alpha1.Application {
	app := &v1alpha1.Application{}
	app.Name = "addon-argo-cd-eks-develop-clienta-services"
	app.Spec.Project = "argocd"
	app.Spec.Destination = v1alpha1.ApplicationDestination{Name: "eks-develop-clientA-services", Namespace: "argocd"}
	app.Spec.Sources = v1alpha1.ApplicationSources{
		{RepoURL: valuesRepo, TargetRevision: "main", Ref: "values"},
		{RepoURL: chartRepo, Chart: "argo-cd", TargetRevision: "10.1.1", Helm: h},
	}
	return app
}

// singleApp has one `source`: a Git directory.
func singleApp(h *v1alpha1.ApplicationSourceHelm) *v1alpha1.Application {
	app := &v1alpha1.Application{}
	app.Name = "app"
	app.Spec.Destination.Namespace = "apps"
	app.Spec.Source = &v1alpha1.ApplicationSource{RepoURL: valuesRepo, Path: "charts/app", TargetRevision: "main", Helm: h}
	return app
}

func names(files []NamedFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func mustResolve(t *testing.T, app *v1alpha1.Application, idx int, local fs.FS) *HelmInputs {
	t.Helper()
	in, err := ResolveHelm(app, idx, testRepos(), local)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// docs/user-guide/multiple_sources.md: "$values" resolves to the root of
// the referenced repository, even when the ref source has a path;
// reposerver getResolvedRefValueFile.
func TestRefValueFile_MultipleSourcesDoc(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{
		"$values/environments/default/addons/argo-cd/values.yaml",
		"$values/./environments//develop/addons/argo-cd/../argo-cd/values.yaml", // cleaned
	}})
	app.Spec.Sources[0].Path = "bootstrap" // still the root
	in := mustResolve(t, app, 1, chartFS())
	if len(in.ValueFiles) != 2 {
		t.Fatalf("value files: %+v", in.ValueFiles)
	}
	f := in.ValueFiles[0]
	if f.Name != "$values/environments/default/addons/argo-cd/values.yaml" || f.Path != "environments/default/addons/argo-cd/values.yaml" ||
		f.Repo != valuesRepo || !strings.Contains(string(f.Data), "layer: default") || f.Entry != f.Name {
		t.Errorf("first: %+v", f)
	}
	if in.ValueFiles[1].Path != "environments/develop/addons/argo-cd/values.yaml" {
		t.Errorf("second path not cleaned: %q", in.ValueFiles[1].Path)
	}
}

// reposerver getResolvedRefValueFile: `failed to find repo` when the ref
// source's repository is not available; not a missing file, so
// ignoreMissingValueFiles does not skip it.
func TestRefUnknownRepository_GetResolvedRefValueFile(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{"$values/a.yaml"}})
	app.Spec.Sources[0].RepoURL = "https://github.com/other/repo"
	_, err := ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, "https://github.com/other/repo", "not available offline", `"$values/a.yaml"`)
}

// util/io/path/resolved.go resolveFileOrDirectory: a path that leaves the
// repository root is an error ("resolved to outside repository root"), and
// so is the root itself; ignoreMissingValueFiles does not skip either.
func TestRefTraversal_ResolveFileOrDirectory(t *testing.T) {
	for _, entry := range []string{
		"$values/../outside.yaml",
		"$values/environments/../../outside.yaml",
		"$values/link-out.yaml", // a symlink out of the repository
		"$values/envlinks/out.yaml",
	} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "outside repository root")
	}
	for _, entry := range []string{"$values/.", "$values/environments/.."} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "repository root")
	}
	// resolveRefValueFile: nothing after the ref name.
	for _, entry := range []string{"$values", "$values/", "$values//"} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, "no file path after the ref name")
	}
	// A link that stays inside the repository is followed.
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/link-in.yaml", "$values/envlinks/ok.yaml"}})
	in := mustResolve(t, app, 1, chartFS())
	if in.ValueFiles[0].Path != "envs/a.yaml" || in.ValueFiles[1].Path != "envs/b.yaml" {
		t.Errorf("links: %+v", in.ValueFiles)
	}
}

// reposerver getResolvedValueFiles / util/io/path ResolveValueFilePathOrUrl:
// a relative path is relative to the source's directory (appPath), an
// absolute one to the repository root; neither may leave the repository.
func TestLocalValueFiles_ResolveValueFilePathOrUrl(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"ci/test-values.yaml", "/values.yaml", "./ci/../values.yaml"}})
	in := mustResolve(t, app, 1, chartFS())
	if got := names(in.ValueFiles); !reflect.DeepEqual(got, []string{"ci/test-values.yaml", "/values.yaml"}) {
		t.Errorf("names = %v (./ci/../values.yaml is /values.yaml again: deduplicated)", got)
	}
	if in.ValueFiles[0].Repo != "" || in.ValueFiles[0].Path != "ci/test-values.yaml" {
		t.Errorf("local file: %+v", in.ValueFiles[0])
	}
	for _, entry := range []string{"../values.yaml", "/../x.yaml"} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "outside repository root")
	}

	// With the repository root and the source path (Options.AppPath), "../"
	// may leave the source's directory but not the repository.
	repo := valuesFS()
	single := singleApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml", "../common/values.yaml", "/envs/a.yaml"}})
	in, err := ResolveHelmWithOptions(single, -1, testRepos(), repo, Options{AppPath: "charts/app"})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range in.ValueFiles {
		paths = append(paths, f.Path)
	}
	if !reflect.DeepEqual(paths, []string{"charts/app/values-prod.yaml", "charts/common/values.yaml", "envs/a.yaml"}) {
		t.Errorf("paths = %v", paths)
	}
	single.Spec.Source.Helm.ValueFiles = []string{"../../../x.yaml"}
	_, err = ResolveHelmWithOptions(single, -1, testRepos(), repo, Options{AppPath: "charts/app"})
	wantError(t, err, "outside repository root")
}

// reposerver getReferencedSource and forEachRefSource (ref_source_resolver):
// in an Application with `sources`, an entry starting with "$x" where x is
// no ref is an error; with a single `source` there are no refs
// (util/argo/argo.go GetRefSources needs more than one source) and the
// entry is a local path after env substitution (v1alpha1 Env.Envsubst:
// unknown variables are empty), so "$x/values.yaml" is "/values.yaml".
func TestUnknownRef_GetReferencedSource(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{"$other/values.yaml"}})
	_, err := ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, `source referenced "$other", which is not one of the available sources ($values)`)

	// One element in `sources`: still multi-source, but no refs at all.
	one := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/values.yaml"}})
	one.Spec.Sources = one.Spec.Sources[1:]
	_, err = ResolveHelm(one, 0, testRepos(), chartFS())
	wantError(t, err, `source referenced "$values", but no source has a 'ref' field defined`)

	single := singleApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/values.yaml", "$ARGOCD_APP_NAME/../values-prod.yaml"}})
	in, err := ResolveHelm(single, -1, testRepos(), fstest.MapFS{"values.yaml": file("a: 1\n"), "values-prod.yaml": file("a: 2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{in.ValueFiles[0].Path, in.ValueFiles[1].Path}; !reflect.DeepEqual(got, []string{"values.yaml", "values-prod.yaml"}) {
		t.Errorf("paths = %v", got)
	}
}

// reposerver newEnv and v1alpha1 Env.Envsubst: value files, file parameter
// paths and parameter values see the build environment; "$$" is "$".
func TestBuildEnvironment_NewEnv(t *testing.T) {
	fsys := fstest.MapFS{
		"values-addon-argo-cd-eks-develop-clienta-services.yaml": file("a: 1\n"),
		"argocd/10.1.1.yaml":  file("b: 2\n"),
		"argo-cd/values.yaml": file("c: 3\n"),
		"file-argocd-argo-cd": file("content"),
	}
	app := multiApp(&v1alpha1.ApplicationSourceHelm{
		ValueFiles: []string{"values-${ARGOCD_APP_NAME}.yaml", "./$ARGOCD_APP_NAMESPACE/$ARGOCD_APP_SOURCE_TARGET_REVISION.yaml", "./${ARGOCD_APP_PROJECT_NAME}/../argo-cd/values.yaml"},
		Parameters: []v1alpha1.HelmParameter{
			{Name: "name", Value: "$ARGOCD_APP_NAME"},
			{Name: "dollar", Value: "$$5 and $UNKNOWN."},
			{Name: "rev", Value: "${ARGOCD_APP_REVISION_SHORT}"},
		},
		FileParameters: []v1alpha1.HelmFileParameter{{Name: "f", Path: "file-$ARGOCD_APP_PROJECT_NAME-argo-cd"}},
	})
	in := mustResolve(t, app, 1, fsys)
	if len(in.ValueFiles) != 3 {
		t.Fatalf("value files: %v", names(in.ValueFiles))
	}
	want := []Param{{Name: "name", Value: "addon-argo-cd-eks-develop-clienta-services"}, {Name: "dollar", Value: "$5 and ."}, {Name: "rev", Value: "10.1.1"}}
	if !reflect.DeepEqual(in.Parameters, want) {
		t.Errorf("parameters = %+v", in.Parameters)
	}
	if string(in.FileParameters[0].Data) != "content" {
		t.Errorf("file parameter: %+v", in.FileParameters[0])
	}
	// An Application outside Argo CD's namespace is "<namespace>_<name>"
	// (Application.InstanceName).
	other := multiApp(&v1alpha1.ApplicationSourceHelm{Parameters: []v1alpha1.HelmParameter{{Name: "name", Value: "$ARGOCD_APP_NAME"}}})
	other.Namespace = "team-a"
	if in := mustResolve(t, other, 1, fsys); in.Parameters[0].Value != "team-a_addon-argo-cd-eks-develop-clienta-services" {
		t.Errorf("instance name = %q", in.Parameters[0].Value)
	}
	// Options.Revision is ARGOCD_APP_REVISION.
	in, err := ResolveHelmWithOptions(app, 1, testRepos(), fsys, Options{Revision: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Parameters[2].Value != "0123456" {
		t.Errorf("short revision = %q", in.Parameters[2].Value)
	}
	// In an Application with `sources`, an entry that starts with a
	// variable is taken for a $ref (a known Argo CD pitfall).
	app.Spec.Sources[1].Helm.ValueFiles = []string{"$ARGOCD_APP_NAMESPACE/values.yaml"}
	_, err = ResolveHelm(app, 1, testRepos(), fsys)
	wantError(t, err, `source referenced "$ARGOCD_APP_NAMESPACE"`)
}

// util/io/path ResolveValueFilePathOrUrl: a URL whose scheme is in
// helm.valuesFileSchemes (default "https,http") is passed to Helm, which
// downloads it; offline that is an error, even with ignoreMissingValueFiles
// (Argo CD never checks that a remote file exists). Any other scheme is
// "not allowed".
func TestRemoteValueFiles_ResolveValueFilePathOrUrl(t *testing.T) {
	for _, entry := range []string{"https://raw.githubusercontent.com/org/repo/main/values.yaml", "HTTP://example.com/v.yaml"} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "remote value files are not fetched offline", "helm")
	}
	for _, entry := range []string{"s3://bucket/values.yaml", "secrets://values.yaml"} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "is not allowed")
	}
	// After a known $ref the rest is always a path ("/https://..." below the
	// root), never a URL.
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{"$values/https://example.com/v.yaml"}})
	in := mustResolve(t, app, 1, chartFS())
	if !reflect.DeepEqual(in.Missing, []string{"$values/https://example.com/v.yaml"}) {
		t.Errorf("missing = %v", in.Missing)
	}
}

// docs/user-guide/helm.md "Glob Patterns in Value Files": lexical order,
// expanded in place, '**' visits a directory's files before its
// subdirectories, a file listed explicitly keeps its explicit position,
// a file matched twice keeps its first position
// (valueFileResolver.ResolveValueFiles).
func TestGlobs_HelmDocGlobPatterns(t *testing.T) {
	cases := []struct {
		entries []string
		want    []string
	}{
		{[]string{"$values/envs/*.yaml"}, []string{"$values/envs/.hidden.yaml", "$values/envs/a.yaml", "$values/envs/b.yaml", "$values/envs/prod.yaml", "$values/envs/z.yaml"}},
		// The explicit entry wins over the glob's position (helm.md "Deduplication").
		{[]string{"$values/envs/[a-p]*.yaml", "$values/envs/prod.yaml"}, []string{"$values/envs/a.yaml", "$values/envs/b.yaml", "$values/envs/prod.yaml"}},
		// Even when listed before the glob.
		{[]string{"$values/envs/b.yaml", "$values/envs/?.yaml"}, []string{"$values/envs/b.yaml", "$values/envs/a.yaml", "$values/envs/z.yaml"}},
		// '**': envs/ files first, then envs/nested/; already matched files are skipped.
		{[]string{"$values/envs/[ab].yaml", "$values/envs/**/*.yaml"}, []string{"$values/envs/a.yaml", "$values/envs/b.yaml", "$values/envs/.hidden.yaml", "$values/envs/prod.yaml", "$values/envs/z.yaml", "$values/envs/nested/c.yaml"}},
		// Duplicates of an explicit file keep the first position.
		{[]string{"$values/envs/a.yaml", "$values/envs/b.yaml", "$values/envs/a.yaml"}, []string{"$values/envs/a.yaml", "$values/envs/b.yaml"}},
		// Alternatives and negated classes (doublestar syntax).
		{[]string{"$values/envs/{z,a}*.yaml", "$values/envs/[!a-y]*.y?ml"}, []string{"$values/envs/a.yaml", "$values/envs/z.yaml", "$values/envs/.hidden.yaml"}},
	}
	for _, c := range cases {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: c.entries})
		in := mustResolve(t, app, 1, chartFS())
		if got := names(in.ValueFiles); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v:\n got %v\nwant %v", c.entries, got, c.want)
		}
	}
	// The brace entry has no *, ? or [: it is a plain (missing) file name.
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/envs/{z,a}.yaml"}})
	_, err := ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, "{z,a}.yaml", "does not exist")

	// Local globs, and the Entry of a match.
	app = multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"ci/*.yaml", "*.yaml"}})
	in := mustResolve(t, app, 1, chartFS())
	if got := names(in.ValueFiles); !reflect.DeepEqual(got, []string{"ci/test-values.yaml", "Chart.yaml", "values.yaml"}) {
		t.Errorf("local glob = %v", got)
	}
	if in.ValueFiles[0].Entry != "ci/*.yaml" {
		t.Errorf("entry of a match = %q", in.ValueFiles[0].Entry)
	}
	// A glob relative to Options.AppPath names its matches relative to it.
	single := singleApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../common/*.yaml"}})
	in, err = ResolveHelmWithOptions(single, -1, testRepos(), valuesFS(), Options{AppPath: "charts/app"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(in.ValueFiles); !reflect.DeepEqual(got, []string{"../common/values.yaml"}) {
		t.Errorf("relative glob = %v", got)
	}
}

// valueFileResolver: a glob matching nothing is an error ("values file glob
// ... matched no files"), skipped with ignoreMissingValueFiles; a malformed
// pattern and a match through a link out of the root are errors
// (verifyGlobMatchesWithinRoot).
func TestGlobErrors_ValueFileResolver(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/nothing/*.yaml"}})
	_, err := ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, `values file glob "$values/nothing/*.yaml" matched no files`)

	app.Spec.Sources[1].Helm.IgnoreMissingValueFiles = true
	in := mustResolve(t, app, 1, chartFS())
	if len(in.ValueFiles) != 0 || !reflect.DeepEqual(in.Missing, []string{"$values/nothing/*.yaml"}) {
		t.Errorf("ignored glob: files %v, missing %v", names(in.ValueFiles), in.Missing)
	}

	app = multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{"$values/envs/[a-.yaml"}})
	_, err = ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, "error expanding glob pattern")

	app = multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{"$values/envlinks/*.yaml"}})
	_, err = ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, "envlinks/out.yaml", "outside repository root")
}

// docs/user-guide/helm.md and reposerver getResolvedValueFiles:
// ignoreMissingValueFiles skips only value files that do not exist
// (os.IsNotExist); the rest of the list keeps its order.
func TestIgnoreMissingValueFiles_GetResolvedValueFiles(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{
		"$values/environments/default/addons/argo-cd/values.yaml",
		"$values/environments/staging/addons/argo-cd/values.yaml",
		"missing-local.yaml",
		"$values/clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml",
	}})
	in := mustResolve(t, app, 1, chartFS())
	if got := names(in.ValueFiles); !reflect.DeepEqual(got, []string{"$values/environments/default/addons/argo-cd/values.yaml", "$values/clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml"}) {
		t.Errorf("files = %v", got)
	}
	if !reflect.DeepEqual(in.Missing, []string{"$values/environments/staging/addons/argo-cd/values.yaml", "missing-local.yaml"}) {
		t.Errorf("missing = %v", in.Missing)
	}

	// Not skipped: a file that exists but is not YAML, a directory.
	for entry, msg := range map[string]string{
		"$values/clusters/eks-develop-clientA-services/addons/argo-cd/broken.yaml": "failed to parse",
		"$values/environments/develop/not-yaml.txt":                                "failed to parse",
		"$values/environments/develop":                                             "is a directory",
	} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, msg)
	}
}

// Helm fails on a value file it cannot read (helm pkg/cli/values
// MergeValues): without ignoreMissingValueFiles a missing file is an error
// naming it; a file that is not a YAML map is an error naming it.
func TestMissingAndInvalidValueFiles_HelmMergeValues(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{
		"$values/environments/default/addons/argo-cd/values.yaml",
		"$values/environments/staging/addons/argo-cd/values.yaml",
	}})
	_, err := ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, `"$values/environments/staging/addons/argo-cd/values.yaml"`, "does not exist", valuesRepo)

	for _, entry := range []string{
		"$values/clusters/eks-develop-clientA-services/addons/argo-cd/broken.yaml",
		"$values/clusters/eks-develop-clientA-services/addons/argo-cd/list.yaml", // YAML, but not a map
	} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{entry}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, entry, "failed to parse")
	}
}

// v1alpha1 ApplicationSourceHelm.ValuesYAML / ValuesIsEmpty: valuesObject,
// when set, is used and values ignored; docs/user-guide/helm.md "Helm
// Value Precedence".
func TestValuesAndValuesObject_ValuesYAML(t *testing.T) {
	h := &v1alpha1.ApplicationSourceHelm{Values: "from: values\n"}
	in := mustResolve(t, multiApp(h), 1, chartFS())
	if string(in.Values) != "from: values\n" || in.ValuesField != "values" {
		t.Errorf("values: %q %q", in.Values, in.ValuesField)
	}
	h.ValuesObject = &runtime.RawExtension{Raw: []byte(`{"from":"valuesObject","num":1}`)}
	in = mustResolve(t, multiApp(h), 1, chartFS())
	if string(in.Values) != "from: valuesObject\nnum: 1\n" || in.ValuesField != "valuesObject" {
		t.Errorf("valuesObject: %q %q", in.Values, in.ValuesField)
	}
	in = mustResolve(t, multiApp(&v1alpha1.ApplicationSourceHelm{}), 1, chartFS())
	if in.Values != nil {
		t.Errorf("no values: %q", in.Values)
	}
	_, err := ResolveHelm(multiApp(&v1alpha1.ApplicationSourceHelm{Values: "a: [b\n"}), 1, testRepos(), chartFS())
	wantError(t, err, "helm.values", "failed to parse")
	// No helm section: nothing to resolve.
	in = mustResolve(t, multiApp(nil), 1, chartFS())
	if !reflect.DeepEqual(in, &HelmInputs{where: in.where}) {
		t.Errorf("no helm: %+v", in)
	}
}

// util/helm/cmd.go template: parameters become --set, or --set-string with
// forceString, from two maps (a repeated name keeps its last value); Helm
// applies every --set before every --set-string; cleanSetParameters escapes
// commas unless the value is a {list}.
func TestParameters_HelmTemplateFlags(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{Parameters: []v1alpha1.HelmParameter{
		{Name: "image.tag", Value: "v1", ForceString: true},
		{Name: "replicas", Value: "2"},
		{Name: "image.tag", Value: "v2", ForceString: true},
		{Name: "args", Value: "{a,b}"},
		{Name: "replicas", Value: "3"},
	}})
	in := mustResolve(t, app, 1, chartFS())
	want := []Param{{Name: "replicas", Value: "3"}, {Name: "args", Value: "{a,b}"}, {Name: "image.tag", Value: "v2", ForceString: true}}
	if !reflect.DeepEqual(in.Parameters, want) {
		t.Errorf("parameters = %+v", in.Parameters)
	}
	for p, want := range map[Param]string{
		{Name: "a", Value: "x,y"}:     `a=x\,y`,
		{Name: "a", Value: `x\,y`}:    `a=x\,y`,
		{Name: "a", Value: "{x,y}"}:   `a={x,y}`,
		{Name: "a.b", Value: "plain"}: `a.b=plain`,
	} {
		if got := SetExpression(p); got != want {
			t.Errorf("SetExpression(%+v) = %s, want %s", p, got, want)
		}
	}
}

// reposerver helmTemplate (fileParameters resolved by the value file
// resolver, $ref included) and Helm's --set-file (the file is read; a
// missing file fails whatever ignoreMissingValueFiles says).
func TestFileParameters_HelmTemplate(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, FileParameters: []v1alpha1.HelmFileParameter{
		{Name: "tls.ca", Path: "$values/certs/ca.pem"},
		{Name: "ci", Path: "ci/test-values.yaml"},
	}})
	in := mustResolve(t, app, 1, chartFS())
	want := []NamedFile{
		{Name: "tls.ca", Path: "certs/ca.pem", Data: []byte("-----BEGIN CERTIFICATE-----\n"), Entry: "$values/certs/ca.pem", Repo: valuesRepo},
		{Name: "ci", Path: "ci/test-values.yaml", Data: []byte("ci: true\n"), Entry: "ci/test-values.yaml"},
	}
	if !reflect.DeepEqual(in.FileParameters, want) {
		t.Errorf("file parameters = %+v", in.FileParameters)
	}
	for path, msg := range map[string]string{
		"$values/certs/missing.pem": "does not exist",
		"$values/../x":              "outside repository root",
		"$nope/x":                   "source referenced",
		"https://example.com/ca":    "not fetched offline",
	} {
		app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, FileParameters: []v1alpha1.HelmFileParameter{{Name: "k", Path: path}}})
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		wantError(t, err, msg)
	}
}

// util/argo/argo.go GetRefSources: refs match ^[a-zA-Z0-9_-]+$ and are
// unique; reposerver forEachRefSource: a ref source may not have a chart,
// and one repository may not be referenced at two revisions.
func TestRefValidation_GetRefSources(t *testing.T) {
	check := func(mutate func(*v1alpha1.Application), msg string) {
		t.Helper()
		app := multiApp(&v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/envs/a.yaml", "$other/envs/b.yaml"}})
		app.Spec.Sources = append(app.Spec.Sources, v1alpha1.ApplicationSource{RepoURL: valuesRepo, TargetRevision: "main", Ref: "other"})
		mutate(app)
		_, err := ResolveHelm(app, 1, testRepos(), chartFS())
		if msg == "" {
			if err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			return
		}
		wantError(t, err, msg)
	}
	check(func(*v1alpha1.Application) {}, "")
	check(func(a *v1alpha1.Application) { a.Spec.Sources[2].Ref = "bad.ref" }, "sources.ref bad.ref cannot contain any special characters")
	check(func(a *v1alpha1.Application) { a.Spec.Sources[2].Ref = "values" }, "multiple sources had the same `ref` key")
	check(func(a *v1alpha1.Application) { a.Spec.Sources[2].Chart = "x" }, "Helm charts are not yet not supported for 'ref' sources")
	check(func(a *v1alpha1.Application) { a.Spec.Sources[2].TargetRevision = "v2" },
		`cannot reference multiple revisions for the same repository ($other references "v2" while $values references "main")`)
	// The same repository through an equivalent URL is the same repository.
	check(func(a *v1alpha1.Application) {
		a.Spec.Sources[2].RepoURL = "https://GitHub.com/gitops-hub/gitops-hub/"
		a.Spec.Sources[2].TargetRevision = "v2"
	}, "cannot reference multiple revisions")
}

// With the repository root given (Options.AppPath), a $ref to the source's
// own repository reads the same files as a local path: Argo CD uses one
// checkout per repository, so the file is deduplicated.
func TestRefToOwnRepository_SameCheckout(t *testing.T) {
	app := &v1alpha1.Application{}
	app.Name = "app"
	app.Spec.Sources = v1alpha1.ApplicationSources{
		{RepoURL: valuesRepo, Path: "charts/app", TargetRevision: "main", Helm: &v1alpha1.ApplicationSourceHelm{
			ValueFiles: []string{"values-prod.yaml", "$values/charts/app/values-prod.yaml", "$values/charts/app/*.yaml"},
		}},
		{RepoURL: valuesRepo, TargetRevision: "main", Ref: "values"},
	}
	in, err := ResolveHelmWithOptions(app, 0, testRepos(), valuesFS(), Options{AppPath: "charts/app"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(in.ValueFiles); !reflect.DeepEqual(got, []string{"values-prod.yaml", "$values/charts/app/Chart.yaml", "$values/charts/app/values.yaml"}) {
		t.Errorf("files = %v", got)
	}
}

func TestPickSource(t *testing.T) {
	app := multiApp(nil)
	if _, err := ResolveHelm(app, 2, testRepos(), chartFS()); err == nil {
		t.Error("index out of range accepted")
	}
	if _, err := ResolveHelm(app, -1, testRepos(), chartFS()); err == nil {
		t.Error("spec.source absent, accepted")
	}
	if _, err := ResolveHelm(nil, 0, testRepos(), chartFS()); err == nil {
		t.Error("nil Application accepted")
	}
}
