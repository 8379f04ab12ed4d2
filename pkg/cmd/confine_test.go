//go:build unix

package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// leakCanary is set in hubctl's environment and written in a file outside
// the repository: neither may ever reach stdout or stderr.
const leakCanary = "canary-4e2b90d1f7"

// confineRepo is a small working tree: one cluster, a plain directory, a
// kustomization, a local chart, Git-generator files, and a file outside the
// tree holding the canary (as a ConfigMap, as values, as generator params),
// so a read that escaped would show it.
func confineRepo(t *testing.T) (repo, outsideFile string) {
	t.Helper()
	t.Setenv("HUBCTL_TEST_CI_TOKEN", leakCanary)
	outside := t.TempDir()
	outsideFile = filepath.Join(outside, "stolen.yaml")
	writeFile(t, outsideFile, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\ndata: {token: "+leakCanary+"}\ncanary: "+leakCanary+"\n")
	repo = t.TempDir()
	writeFile(t, filepath.Join(repo, "clusters/c1/cluster.yaml"), `apiVersion: v1
kind: Secret
metadata:
  name: cluster-c1
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: cluster}
stringData: {name: c1, server: https://c1.example.com}
`)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {a: b}\n"
	writeFile(t, filepath.Join(repo, "apps/dir/cm.yaml"), strings.ReplaceAll(cm, "%s", "dir-cm"))
	writeFile(t, filepath.Join(repo, "apps/kust/cm.yaml"), strings.ReplaceAll(cm, "%s", "kust-cm"))
	writeFile(t, filepath.Join(repo, "apps/kust/kustomization.yaml"), "resources: [cm.yaml, leak.yaml]\n")
	writeFile(t, filepath.Join(repo, "charts/local/Chart.yaml"), "apiVersion: v2\nname: local\nversion: 0.1.0\n")
	writeFile(t, filepath.Join(repo, "charts/local/values.yaml"), "canary: none\n")
	writeFile(t, filepath.Join(repo, "charts/local/templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {canary: {{ .Values.canary | quote }}}\n")
	writeFile(t, filepath.Join(repo, "config/a.yaml"), "env: a\n")
	return repo, outsideFile
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
}

// appSet writes an ApplicationSet with one Application "app" whose source is
// src (YAML flow mapping), and returns its path. It uses fasttemplate, which
// leaves Go template actions in src (helm.releaseName) as they are.
func appSet(t *testing.T, dir, src string) string {
	t.Helper()
	p := filepath.Join(dir, "appset.yaml")
	writeFile(t, p, `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: confine, namespace: argocd}
spec:
  generators:
  - list: {elements: [{cluster: c1}]}
  template:
    metadata: {name: app}
    spec:
      project: default
      source: `+src+`
      destination: {name: '{{cluster}}', namespace: ns}
`)
	return p
}

const confineRepoURL = "https://git.example.com/confine.git"

func renderConfined(t *testing.T, repo, src string) (stdout, stderr string, code int) {
	t.Helper()
	return run(t, "render", "--repo", repo, "--appset", appSet(t, t.TempDir(), src), "--repo-url", confineRepoURL, "--cache-dir", t.TempDir())
}

func assertRefused(t *testing.T, stdout, stderr string, code int, want ...string) {
	t.Helper()
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	if strings.Contains(stdout+stderr, leakCanary) {
		t.Errorf("the canary leaked:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr)
		}
	}
}

// In working-tree mode (the default) no source follows a symbolic link out
// of the repository, whether it points at /proc/self/environ or at a file
// elsewhere; each refusal names the Application and the file.
func TestWorkingTreeSymlinksOutOfTheRepositoryAreRefused(t *testing.T) {
	const outOfRepo = "symbolic link points outside the repository"
	const environ = "/proc/self/environ"
	for _, tc := range []struct {
		name         string
		target, link string // target "" is the file outside the repository; "rel" the same, relative
		src          string
		want         []string
	}{
		{"directory source, link to /proc/self/environ", environ, "apps/dir/environ.yaml",
			`{repoURL: ` + confineRepoURL + `, path: apps/dir}`, []string{"apps/dir/environ.yaml", outOfRepo}},
		{"directory source, relative link to a file outside", "rel", "apps/dir/stolen.yaml",
			`{repoURL: ` + confineRepoURL + `, path: apps/dir}`, []string{"apps/dir/stolen.yaml", outOfRepo}},
		{"kustomize resource", "", "apps/kust/leak.yaml",
			`{repoURL: ` + confineRepoURL + `, path: apps/kust}`, []string{"apps/kust/leak.yaml", outOfRepo}},
		{"local chart template", "", "charts/local/templates/leak.yaml",
			`{repoURL: ` + confineRepoURL + `, path: charts/local}`, []string{"templates/leak.yaml", outOfRepo}},
		{"values file", "", "values/leak.yaml",
			`{repoURL: ` + confineRepoURL + `, path: charts/local, helm: {valueFiles: [../../values/leak.yaml]}}`, []string{"values/leak.yaml", "outside repository root"}},
		{"values file with ignoreMissingValueFiles", environ, "values/environ.yaml",
			`{repoURL: ` + confineRepoURL + `, path: charts/local, helm: {ignoreMissingValueFiles: true, valueFiles: [../../values/environ.yaml]}}`, []string{"values/environ.yaml", "outside repository root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, outside := confineRepo(t)
			target := tc.target
			switch target {
			case "":
				target = outside
			case "rel":
				target, _ = filepath.Rel(filepath.Dir(filepath.Join(repo, tc.link)), outside)
			}
			symlink(t, target, filepath.Join(repo, tc.link))
			out, errOut, code := renderConfined(t, repo, tc.src)
			assertRefused(t, out, errOut, code, append([]string{"Application app"}, tc.want...)...)
		})
	}
	t.Run("git files generator", func(t *testing.T) {
		repo, outside := confineRepo(t)
		symlink(t, outside, filepath.Join(repo, "config/leak.yaml"))
		appset := filepath.Join(t.TempDir(), "git.yaml")
		writeFile(t, appset, `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: gitfiles, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - git: {repoURL: `+confineRepoURL+`, revision: HEAD, files: [{path: 'config/*.yaml'}]}
  template:
    metadata: {name: 'app-{{ .path.filename }}'}
    spec:
      project: default
      source: {repoURL: `+confineRepoURL+`, path: apps/dir}
      destination: {name: c1, namespace: '{{ .canary | default "x" }}'}
`)
		out, errOut, code := run(t, "generate", "--repo", repo, "--appset", appset)
		assertRefused(t, out, errOut, code, "gitfiles", "config/leak.yaml", outOfRepo)
	})
	t.Run("ApplicationSet under bootstrap", func(t *testing.T) {
		repo, outside := confineRepo(t)
		symlink(t, outside, filepath.Join(repo, "bootstrap/leak.yaml"))
		out, errOut, code := run(t, "generate", "--repo", repo)
		assertRefused(t, out, errOut, code, "bootstrap/leak.yaml", outOfRepo)
	})
	t.Run("cluster registry", func(t *testing.T) {
		repo, outside := confineRepo(t)
		symlink(t, outside, filepath.Join(repo, "clusters/c2/cluster.yaml"))
		out, errOut, code := run(t, "generate", "--repo", repo, "--appset", appSet(t, t.TempDir(), `{repoURL: `+confineRepoURL+`, path: apps/dir}`))
		assertRefused(t, out, errOut, code, "clusters/c2/cluster.yaml", outOfRepo)
	})
}

// A FIFO in the working tree is an error naming it, not a hang (nothing
// ever writes to it).
func TestWorkingTreeFIFOIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name, fifo string
		args       func(repo string) []string
	}{
		{"values file", "values/fifo.yaml", func(repo string) []string {
			return []string{"render", "--repo", repo, "--repo-url", confineRepoURL, "--cache-dir", t.TempDir(),
				"--appset", appSet(t, t.TempDir(), `{repoURL: `+confineRepoURL+`, path: charts/local, helm: {valueFiles: [../../values/fifo.yaml]}}`)}
		}},
		{"local chart file", "templates/fifo.yaml", func(repo string) []string {
			return []string{"render", "--repo", repo, "--repo-url", confineRepoURL, "--cache-dir", t.TempDir(),
				"--appset", appSet(t, t.TempDir(), `{repoURL: `+confineRepoURL+`, path: charts/local}`)}
		}},
		{"kustomize resource", "apps/kust/leak.yaml", func(repo string) []string {
			return []string{"render", "--repo", repo, "--repo-url", confineRepoURL, "--cache-dir", t.TempDir(),
				"--appset", appSet(t, t.TempDir(), `{repoURL: `+confineRepoURL+`, path: apps/kust}`)}
		}},
		{"ApplicationSet under bootstrap", "bootstrap/fifo.yaml", func(repo string) []string {
			return []string{"generate", "--repo", repo}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, _ := confineRepo(t)
			p := filepath.Join(repo, tc.fifo)
			if tc.fifo == "templates/fifo.yaml" {
				p = filepath.Join(repo, "charts/local", tc.fifo)
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("mkfifo:", err)
			}
			type result struct {
				out, errOut string
				code        int
			}
			done := make(chan result, 1)
			go func() {
				out, errOut, code := run(t, tc.args(repo)...)
				done <- result{out, errOut, code}
			}()
			select {
			case r := <-done:
				assertRefused(t, r.out, r.errOut, r.code, tc.fifo, "not a regular file: a FIFO")
			case <-timeAfter(t):
				t.Fatal("hubctl blocked on the FIFO")
			}
		})
	}
}

// Symbolic links that stay inside the repository are followed as before.
func TestWorkingTreeSymlinksInsideTheRepositoryWork(t *testing.T) {
	repo, _ := confineRepo(t)
	symlink(t, "../kust/cm.yaml", filepath.Join(repo, "apps/dir/linked.yaml"))
	symlink(t, "charts/local", filepath.Join(repo, "linked-chart"))
	writeFile(t, filepath.Join(repo, "values/real.yaml"), "canary: from-linked-values\n")
	symlink(t, "real.yaml", filepath.Join(repo, "values/linked.yaml"))
	out, errOut, code := renderConfined(t, repo, `{repoURL: `+confineRepoURL+`, path: apps/dir}`)
	if code != 0 || !strings.Contains(out, "name: kust-cm") || !strings.Contains(out, "name: dir-cm") {
		t.Errorf("directory with an inside link: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = renderConfined(t, repo, `{repoURL: `+confineRepoURL+`, path: linked-chart, helm: {valueFiles: [../values/linked.yaml]}}`)
	if code != 0 || !strings.Contains(out, "canary: from-linked-values") {
		t.Errorf("chart through an inside link: exit %d\n%s\n%s", code, out, errOut)
	}
}

// helm.releaseName goes through Helm's name template: env, expandenv and
// getHostByName are refused with a message naming the Application, and the
// environment never reaches the output.
func TestRenderReleaseNameRefusesEnvironment(t *testing.T) {
	repo, _ := confineRepo(t)
	for _, rn := range []string{`r-{{ env "HUBCTL_TEST_CI_TOKEN" }}`, `{{ expandenv "$HUBCTL_TEST_CI_TOKEN" }}`, `{{ getHostByName "leak.invalid" }}`} {
		out, errOut, code := renderConfined(t, repo, `{repoURL: `+confineRepoURL+`, path: charts/local, helm: {releaseName: '`+rn+`'}}`)
		fn := rn[strings.Index(rn, "{{ ")+3:]
		fn = fn[:strings.IndexByte(fn, ' ')]
		assertRefused(t, out, errOut, code, "Application app", `function "`+fn+`" is refused`)
	}
	// A name template without them renders as Helm renders it.
	out, errOut, code := renderConfined(t, repo, `{repoURL: `+confineRepoURL+`, path: charts/local, helm: {releaseName: '{{ "Rel" | lower }}-{{ list 1 2 | len }}'}}`)
	if code != 0 || !strings.Contains(out, "name: rel-2") {
		t.Errorf("release name template: exit %d\n%s\n%s", code, out, errOut)
	}
}

func timeAfter(t *testing.T) <-chan time.Time {
	t.Helper()
	return time.After(60 * time.Second)
}
