package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// The Secret contract of issue 9: after `hubctl config set CLIENT
// grafana-admin --from-literal admin-password=P`, the Secret
// monitoring/grafana-admin of every hosting cluster of CLIENT holds P within
// a minute or two, and no cluster of another client ever holds it.
const (
	secretDeadline = 3 * time.Minute
	secretPoll     = 2 * time.Second
)

var (
	esGVR    = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	storeGVR = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clustersecretstores"}
)

// secretValue returns a fresh value that is never printed.
func secretValue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "e2e-" + hex.EncodeToString(b)
}

// configSet runs `hubctl config set CLIENT grafana-admin --from-literal
// admin-password=VALUE` as a user would; the log shows the command with the
// value redacted, and hubctl's output must not hold the value.
func configSet(t *testing.T, ctx context.Context, hubctl, hubKC, client, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, hubctlBudget)
	defer cancel()
	args := []string{"config", "set", client, action.GrafanaAdminSecret, "--from-literal", action.GrafanaAdminKey + "=" + value, "--kubeconfig", hubKC}
	shown := strings.Join(args, " ")
	shown = strings.ReplaceAll(shown, value, "<redacted>")
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, hubctl, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	leaked := strings.Contains(out.String(), value) || strings.Contains(errOut.String(), value)
	redact := func(s string) string { return strings.ReplaceAll(s, value, "<redacted>") }
	t.Logf("hubctl %s: %v\nstdout:\n%s\nstderr:\n%s", shown, err, redact(out.String()), redact(errOut.String()))
	if err != nil {
		t.Fatalf("hubctl %s: %v", shown, err)
	}
	if leaked {
		t.Fatalf("hubctl %s printed the secret value", shown)
	}
}

// grafanaAdmin reads admin-password of monitoring/grafana-admin in c; found
// is false when the Secret does not exist.
func grafanaAdmin(ctx context.Context, c *kube.Cluster) (value string, found bool, err error) {
	s, err := c.Client.CoreV1().Secrets("monitoring").Get(ctx, action.GrafanaAdminSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(s.Data[action.GrafanaAdminKey]), true, nil
}

// describe says what a value is like without showing it.
func describe(v string, found bool) string {
	if !found {
		return "no Secret"
	}
	return fmt.Sprintf("%d bytes, sha256 %s", len(v), hubconfig.ShortHash([]byte(v)))
}

// waitSecret polls every secretPoll until c's grafana-admin holds want.
func waitSecret(t *testing.T, ctx context.Context, c *kube.Cluster, what, want string) {
	t.Helper()
	start := time.Now()
	last := ""
	wctx, cancel := context.WithTimeout(ctx, secretDeadline)
	defer cancel()
	err := kube.WaitFor(wctx, secretPoll, func(ctx context.Context) (bool, error) {
		v, found, err := grafanaAdmin(ctx, c)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = describe(v, found)
		return found && v == want, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s (%s holds %s; want %s)", what, secretDeadline, c.Name, last, describe(want, true))
	}
	t.Logf("%s after %s", what, time.Since(start).Round(100*time.Millisecond))
	t.Logf("MEASURE %s %s", strings.ReplaceAll(what, " ", "-"), time.Since(start).Round(100*time.Millisecond))
}

// assertNotHeld fails when c's grafana-admin holds one of values.
func assertNotHeld(t *testing.T, ctx context.Context, c *kube.Cluster, values ...string) {
	t.Helper()
	v, found, err := grafanaAdmin(ctx, c)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	for i, bad := range values {
		if found && v == bad {
			t.Errorf("%s's monitoring/grafana-admin holds another client's value #%d", c.Name, i+1)
		}
	}
}

// hubCredentials reads external-secrets/hub-credentials of a hosting
// cluster: what its ESO reads the hub with.
func hubCredentials(t *testing.T, ctx context.Context, c *kube.Cluster) (server, token string, ca []byte) {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets(onboard.ESONamespace).Get(ctx, onboard.HubCredentialsSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %s/%s, placed by cluster add: %v", c.Name, onboard.ESONamespace, onboard.HubCredentialsSecret, err)
	}
	return string(s.Data["server"]), string(s.Data["token"]), s.Data["ca.crt"]
}

// testClientSecrets is issue 9's Secret contract on the running fleet: a
// Secret set on the hub with `hubctl config set` reaches the hosting
// cluster of its client (develop, clientA) through that cluster's External
// Secrets Operator, a change follows, the other client's cluster (staging,
// clientB) never holds it, and the hub refuses clientB's cluster clientA's
// namespace, both to its token directly and to an ExternalSecret.
func testClientSecrets(t *testing.T, ctx context.Context, f *localfleet.Fleet, hubctl string, dev, stg *kube.Cluster) {
	hubKC := f.Kubeconfig(action.HubName)
	procs := supervisor.Processes{Dir: f.StateDir}
	for _, c := range []string{develop, staging} {
		rec, err := procs.Record(localfleet.ESOProc(c))
		if err != nil || !rec.Alive() {
			t.Fatalf("External Secrets Operator of %s does not run (%v)", c, err)
		}
		t.Logf("MEASURE eso-rss %s %s", c, vmRSS(rec.PID))
	}
	p1, p2 := secretValue(t), secretValue(t)

	// up gave each client an initial password: staging's is its own.
	before, found, err := grafanaAdmin(ctx, stg)
	if err != nil || !found {
		t.Fatalf("%s: monitoring/grafana-admin from the hub's initial client-clientb/grafana-admin: found %v, %v", staging, found, err)
	}

	configSet(t, ctx, hubctl, hubKC, "clientA", p1)
	waitSecret(t, ctx, dev, "the value set on the hub in "+develop, p1)
	assertNotHeld(t, ctx, stg, p1)

	configSet(t, ctx, hubctl, hubKC, "clientA", p2)
	waitSecret(t, ctx, dev, "the changed value in "+develop, p2)
	assertNotHeld(t, ctx, stg, p1, p2)
	if after, _, err := grafanaAdmin(ctx, stg); err != nil || after != before {
		t.Errorf("%s's grafana-admin changed when clientA's did (%v)", staging, err)
	}

	// clientB's cluster, with its own hub token, reading clientA's namespace:
	// Forbidden; its own namespace: allowed (the token is valid).
	server, token, ca := hubCredentials(t, ctx, stg)
	hubAsStg, err := kubernetes.NewForConfig(&rest.Config{Host: server, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: ca}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hubAsStg.CoreV1().Secrets("client-clientb").Get(ctx, action.GrafanaAdminSecret, metav1.GetOptions{}); err != nil {
		t.Errorf("%s's hub token reading its own client-clientb/grafana-admin: %v", staging, err)
	}
	_, err = hubAsStg.CoreV1().Secrets("client-clienta").Get(ctx, action.GrafanaAdminSecret, metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s's hub token reading client-clienta/grafana-admin: %v, want Forbidden", staging, err)
	}

	// The same through ESO: a store on clientA's namespace in clientB's
	// cluster, with clientB's credentials, is refused (ESO validates a store
	// with a SelfSubjectRulesReview of its remote namespace) and an
	// ExternalSecret through it gets nothing.
	const name = "e2e-other-client"
	store := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"provider": map[string]any{"kubernetes": map[string]any{
			"remoteNamespace": "client-clienta",
			"server": map[string]any{"url": server, "caProvider": map[string]any{
				"type": "Secret", "name": onboard.HubCredentialsSecret, "namespace": onboard.ESONamespace, "key": "ca.crt"}},
			"auth": map[string]any{"token": map[string]any{"bearerToken": map[string]any{
				"name": onboard.HubCredentialsSecret, "namespace": onboard.ESONamespace, "key": "token"}}},
		}}},
	}}
	es := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": map[string]any{"name": name, "namespace": "monitoring"},
		"spec": map[string]any{
			"refreshInterval": "10s",
			"secretStoreRef":  map[string]any{"kind": "ClusterSecretStore", "name": name},
			"target":          map[string]any{"name": name},
			"data": []any{map[string]any{"secretKey": "password",
				"remoteRef": map[string]any{"key": action.GrafanaAdminSecret, "property": action.GrafanaAdminKey}}},
		},
	}}
	if _, err := stg.Dynamic.Resource(storeGVR).Create(ctx, store, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stg.Dynamic.Resource(storeGVR).Delete(context.Background(), name, metav1.DeleteOptions{}) })
	if _, err := stg.Dynamic.Resource(esGVR).Namespace("monitoring").Create(ctx, es, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stg.Dynamic.Resource(esGVR).Namespace("monitoring").Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	last := ""
	wctx, cancel := context.WithTimeout(ctx, secretDeadline)
	defer cancel()
	err = kube.WaitFor(wctx, secretPoll, func(ctx context.Context) (bool, error) {
		s, err := stg.Dynamic.Resource(storeGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		e, err := stg.Dynamic.Resource(esGVR).Namespace("monitoring").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		sStatus, sMsg := readyCondition(s)
		eStatus, eMsg := readyCondition(e)
		last = fmt.Sprintf("store Ready=%s %q, ExternalSecret Ready=%s %q", sStatus, sMsg, eStatus, eMsg)
		return sStatus == "False" && strings.Contains(sMsg, "not allowed to get secrets") && eStatus == "False", nil
	})
	if err != nil {
		t.Fatalf("a store on client-clienta in %s: not refused within %s: %v (last: %s)", staging, secretDeadline, err, last)
	}
	t.Logf("refused: %s", last)
	if _, err := stg.Client.CoreV1().Secrets("monitoring").Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret monitoring/%s in %s: %v, want NotFound: clientA's Secret reached clientB's cluster", name, staging, err)
	}
	assertNotHeld(t, ctx, stg, p1, p2)
}

// readyCondition returns the status and message of an ESO object's Ready condition.
func readyCondition(u *unstructured.Unstructured) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		status, _ = m["status"].(string)
		message, _ = m["message"].(string)
		return status, message
	}
	return "", ""
}

// vmRSS is the VmRSS line of /proc/PID/status ("" when unreadable).
func vmRSS(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
