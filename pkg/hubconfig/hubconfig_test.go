package hubconfig_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

const secretValue = "s3cr3t-Value-never-shown"

func TestNamespace(t *testing.T) {
	for in, want := range map[string]string{"clientA": "client-clienta", "xpto": "client-xpto", "client-B2": "client-client-b2"} {
		got, err := hubconfig.Namespace(in)
		if err != nil || got != want {
			t.Errorf("Namespace(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a_b", "a.b", "with space", strings.Repeat("x", 60)} {
		if _, err := hubconfig.Namespace(bad); err == nil {
			t.Errorf("Namespace(%q): no error", bad)
		}
	}
}

func TestValidateData(t *testing.T) {
	if err := hubconfig.ValidateData(nil); err == nil {
		t.Error("empty data: no error")
	}
	err := hubconfig.ValidateData(map[string][]byte{"bad/key": []byte(secretValue)})
	if err == nil || !strings.Contains(err.Error(), "bad/key") || strings.Contains(err.Error(), secretValue) {
		t.Errorf("bad key: %v", err)
	}
	if err := hubconfig.ValidateData(map[string][]byte{"k": make([]byte, hubconfig.MaxSecretBytes)}); err == nil {
		t.Error("too large: no error")
	}
	if err := hubconfig.ValidateData(map[string][]byte{"admin-password": []byte("x"), "a.b_c-d": nil}); err != nil {
		t.Error(err)
	}
}

func TestSetCreatesThenReplaces(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	in, err := hubconfig.Set(ctx, c, "clientA", "grafana-admin", map[string][]byte{"admin-password": []byte(secretValue), "admin-user": []byte("admin")})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Created || in.Namespace != "client-clienta" || len(in.Keys) != 2 || in.Keys[0].Name != "admin-password" || in.Keys[0].Size != len(secretValue) {
		t.Errorf("info %+v", in)
	}
	if in.Keys[0].SHA256 != hubconfig.ShortHash([]byte(secretValue)) || len(in.Keys[0].SHA256) != hubconfig.HashLen {
		t.Errorf("hash %q", in.Keys[0].SHA256)
	}
	if s := fmt.Sprintf("%+v %#v", in, in); strings.Contains(s, secretValue) {
		t.Errorf("Info carries the value: %s", s)
	}
	ns, err := c.CoreV1().Namespaces().Get(ctx, "client-clienta", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels[hubconfig.ManagedByLabel] != hubconfig.ManagedBy || ns.Labels[hubconfig.ClientLabel] != "clientA" {
		t.Errorf("namespace labels %v", ns.Labels)
	}
	s, err := c.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Labels[hubconfig.ManagedByLabel] != hubconfig.ManagedBy || s.Type != corev1.SecretTypeOpaque || string(s.Data["admin-password"]) != secretValue {
		t.Errorf("secret %v %s", s.Labels, s.Type)
	}

	in, err = hubconfig.Set(ctx, c, "clientA", "grafana-admin", map[string][]byte{"admin-password": []byte("other")})
	if err != nil {
		t.Fatal(err)
	}
	if in.Created || len(in.Keys) != 1 {
		t.Errorf("update info %+v", in)
	}
	s, _ = c.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
	if string(s.Data["admin-password"]) != "other" || len(s.Data) != 1 {
		t.Errorf("after update: %d keys", len(s.Data))
	}
}

func foreignSecret(ns, name string, typ corev1.SecretType, managed bool) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: map[string][]byte{"k": []byte(secretValue)}}
	if managed {
		s.Labels = map[string]string{hubconfig.ManagedByLabel: hubconfig.ManagedBy}
	}
	return s
}

func TestSetRefusesForeignSecret(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset(foreignSecret("client-clienta", "theirs", corev1.SecretTypeOpaque, false),
		foreignSecret("client-clienta", "tls", corev1.SecretTypeTLS, true))
	_, err := hubconfig.Set(ctx, c, "clientA", "theirs", map[string][]byte{"k": []byte("new")})
	if !errors.Is(err, hubconfig.ErrNotManaged) || !strings.Contains(err.Error(), "client-clienta/theirs") {
		t.Errorf("foreign: %v", err)
	}
	if _, err := hubconfig.Set(ctx, c, "clientA", "tls", map[string][]byte{"k": []byte("new")}); err == nil || !strings.Contains(err.Error(), "kubernetes.io/tls") {
		t.Errorf("non-Opaque: %v", err)
	}
	for _, n := range []string{"theirs", "tls"} {
		s, _ := c.CoreV1().Secrets("client-clienta").Get(ctx, n, metav1.GetOptions{})
		if string(s.Data["k"]) != secretValue {
			t.Errorf("%s was changed", n)
		}
	}
}

func TestSetBadInput(t *testing.T) {
	c := fake.NewClientset()
	for _, tc := range []struct{ client, name string }{{"", "x"}, {"bad_client", "x"}, {"clientA", "Bad_Name"}} {
		if _, err := hubconfig.Set(context.Background(), c, tc.client, tc.name, map[string][]byte{"k": []byte("v")}); err == nil {
			t.Errorf("Set(%q, %q): no error", tc.client, tc.name)
		}
	}
	if l, _ := c.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("bad input created %d namespaces", len(l.Items))
	}
}

func TestGetListDelete(t *testing.T) {
	ctx := context.Background()
	unmanagedNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "client-other", Labels: map[string]string{hubconfig.ClientLabel: "other"}}}
	c := fake.NewClientset(unmanagedNS, foreignSecret("client-other", "x", corev1.SecretTypeOpaque, true))
	for _, cl := range []string{"clientB", "clientA"} {
		if _, err := hubconfig.Set(ctx, c, cl, "s3", map[string][]byte{"k": []byte(secretValue)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CoreV1().Secrets("client-clienta").Create(ctx, foreignSecret("client-clienta", "foreign", corev1.SecretTypeOpaque, false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Secrets("client-clienta").Create(ctx, foreignSecret("client-clienta", "sa-token", corev1.SecretTypeServiceAccountToken, false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	in, err := hubconfig.Get(ctx, c, "clientA", "s3")
	if err != nil || in.Name != "s3" || !in.Managed || in.Keys[0].Size != len(secretValue) {
		t.Errorf("Get: %+v %v", in, err)
	}
	if _, err := hubconfig.Get(ctx, c, "clientA", "missing"); !errors.Is(err, hubconfig.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}

	all, err := hubconfig.List(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range all {
		got = append(got, fmt.Sprintf("%s/%s/%s/%v", i.Client, i.Namespace, i.Name, i.Managed))
	}
	want := "clientA/client-clienta/foreign/false clientA/client-clienta/s3/true clientB/client-clientb/s3/true"
	if strings.Join(got, " ") != want {
		t.Errorf("List all\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	one, err := hubconfig.List(ctx, c, "clientB")
	if err != nil || len(one) != 1 || one[0].Namespace != "client-clientb" {
		t.Errorf("List clientB: %+v %v", one, err)
	}
	none, err := hubconfig.List(ctx, c, "nobody")
	if err != nil || len(none) != 0 {
		t.Errorf("List of a client without namespace: %+v %v", none, err)
	}

	if err := hubconfig.Delete(ctx, c, "clientA", "foreign"); !errors.Is(err, hubconfig.ErrNotManaged) {
		t.Errorf("Delete foreign: %v", err)
	}
	if _, err := c.CoreV1().Secrets("client-clienta").Get(ctx, "foreign", metav1.GetOptions{}); err != nil {
		t.Errorf("foreign Secret gone: %v", err)
	}
	if err := hubconfig.Delete(ctx, c, "clientA", "s3"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Secrets("client-clienta").Get(ctx, "s3", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("s3 still there: %v", err)
	}
	if err := hubconfig.Delete(ctx, c, "clientA", "s3"); !errors.Is(err, hubconfig.ErrNotFound) {
		t.Errorf("Delete missing: %v", err)
	}
}
