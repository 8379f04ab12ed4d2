package controlplane

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestEnsurePKIKeepsKeyMaterial(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	first, err := EnsurePKI(dir, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	second, err := EnsurePKI(dir, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CAData, second.CAData) || !bytes.Equal(first.AdminKeyData, second.AdminKeyData) {
		t.Fatal("EnsurePKI generated new key material over existing one: a restarted apiserver would reject its kubeconfig")
	}
	for _, key := range []string{first.CAKey, first.ServerKey, first.AdminKey, first.SAKey} {
		fi, err := os.Stat(key)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", key, fi.Mode().Perm())
		}
	}
	// The admin certificate is a system:masters client certificate signed by the CA.
	block, _ := pem.Decode(first.AdminCertData)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.Subject.Organization, "system:masters") {
		t.Errorf("admin certificate organisations %v, want system:masters", cert.Subject.Organization)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first.CAData)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate does not verify against the CA: %v", err)
	}
}

func TestLoadPKIMissingFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewPKI(dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "sa.key")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPKI(dir)
	if err == nil || !strings.Contains(err.Error(), "sa.key") {
		t.Fatalf("LoadPKI with sa.key missing: %v, want an error naming sa.key", err)
	}
}

func TestAPIServerArgs(t *testing.T) {
	p := &PKI{CACert: "/p/ca.crt", ServerCert: "/p/s.crt", ServerKey: "/p/s.key", SAKey: "/p/sa.key", SAPub: "/p/sa.pub"}
	a := APIServer{Name: "beta", EtcdURL: EtcdURL(2379), Port: 6443, CertDir: "/c", PKI: p, Extra: []string{"--profiling=true"}}
	args := a.Args()
	for _, want := range []string{"--etcd-servers=http://127.0.0.1:2379", "--etcd-prefix=/beta", "--bind-address=127.0.0.1", "--secure-port=6443", "--client-ca-file=/p/ca.crt"} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %s: %v", want, args)
		}
	}
	if args[len(args)-1] != "--profiling=true" {
		t.Errorf("Extra must come last (so it wins over the defaults): %v", args)
	}
	if a.Server() != "https://127.0.0.1:6443" {
		t.Errorf("Server() = %s", a.Server())
	}
	etcd := EtcdArgs("shared", "/d", 2379, 2380)
	if !slices.Contains(etcd, "--listen-client-urls=http://127.0.0.1:2379") || !slices.Contains(etcd, "--initial-cluster=shared=http://127.0.0.1:2380") {
		t.Errorf("etcd args: %v", etcd)
	}
}

func TestWriteKubeconfig(t *testing.T) {
	dir := t.TempDir()
	p, err := NewPKI(filepath.Join(dir, "pki"), "gamma")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := WriteKubeconfig(path, "gamma", "https://127.0.0.1:7443", p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600 (it holds a private key)", fi.Mode().Perm())
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "gamma" || cfg.Clusters["gamma"].Server != "https://127.0.0.1:7443" || !bytes.Equal(cfg.Clusters["gamma"].CertificateAuthorityData, p.CAData) {
		t.Errorf("kubeconfig: context %q, clusters %v", cfg.CurrentContext, cfg.Clusters)
	}
}
