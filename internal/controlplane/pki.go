// Package controlplane holds what every hand-started Kubernetes control
// plane of this project needs, whoever runs its processes (internal/testenv for
// tests, pkg/localfleet for the fleet's apiserver-only clusters): the key
// material (PKI), an admin kubeconfig, and the etcd and kube-apiserver
// command lines for apiservers that share one etcd under their own prefix.
package controlplane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is the key material of one control plane, as PEM files in Dir:
// its own CA, the apiserver's serving certificate (127.0.0.1, localhost and
// the in-cluster names), an admin client certificate (O=system:masters) and
// the service-account signing key pair. Every cluster gets its own, so a
// credential of one cluster never works against another.
type PKI struct {
	Dir        string
	CACert     string // ca.crt
	CAKey      string // ca.key
	ServerCert string // apiserver.crt
	ServerKey  string // apiserver.key
	AdminCert  string // admin.crt
	AdminKey   string // admin.key
	SAKey      string // sa.key: signs service-account tokens (apiserver, kube-controller-manager)
	SAPub      string // sa.pub: verifies them

	CAData, AdminCertData, AdminKeyData []byte // PEM, for kubeconfigs
}

// pkiAt names the files of the key material in dir.
func pkiAt(dir string) *PKI {
	return &PKI{
		Dir:        dir,
		CACert:     filepath.Join(dir, "ca.crt"),
		CAKey:      filepath.Join(dir, "ca.key"),
		ServerCert: filepath.Join(dir, "apiserver.crt"),
		ServerKey:  filepath.Join(dir, "apiserver.key"),
		AdminCert:  filepath.Join(dir, "admin.crt"),
		AdminKey:   filepath.Join(dir, "admin.key"),
		SAKey:      filepath.Join(dir, "sa.key"),
		SAPub:      filepath.Join(dir, "sa.pub"),
	}
}

// LoadPKI reads the key material NewPKI wrote into dir.
func LoadPKI(dir string) (*PKI, error) {
	p := pkiAt(dir)
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{p.CACert, &p.CAData}, {p.AdminCert, &p.AdminCertData}, {p.AdminKey, &p.AdminKeyData}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("key material in %s: %w", dir, err)
		}
		*f.dst = b
	}
	for _, path := range []string{p.CAKey, p.ServerCert, p.ServerKey, p.SAKey, p.SAPub} {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("key material in %s: %w", dir, err)
		}
	}
	return p, nil
}

// EnsurePKI returns the key material in dir, generating it when dir holds none.
func EnsurePKI(dir, clusterName string) (*PKI, error) {
	if _, err := os.Stat(filepath.Join(dir, "ca.crt")); err == nil {
		return LoadPKI(dir)
	}
	return NewPKI(dir, clusterName)
}

// NewPKI generates the key material of one cluster into dir (ECDSA P-256,
// valid for a year). Keys are written with mode 0600.
func NewPKI(dir, clusterName string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := pkiAt(dir)
	now := time.Now().Add(-time.Hour) // tolerate a little clock skew
	notAfter := now.Add(365 * 24 * time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "gitops-hub-ca-" + clusterName},
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.CAData = pemBlock("CERTIFICATE", caDER)
	if err := writeCert(p.CACert, caDER); err != nil {
		return nil, err
	}
	if err := writeKey(p.CAKey, caKey); err != nil {
		return nil, err
	}

	issue := func(certPath, keyPath string, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %s: %w", filepath.Base(certPath), err)
		}
		if err := writeCert(certPath, der); err != nil {
			return nil, nil, err
		}
		if err := writeKey(keyPath, key); err != nil {
			return nil, nil, err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER), nil
	}
	if _, _, err := issue(p.ServerCert, p.ServerKey, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}); err != nil {
		return nil, err
	}
	if p.AdminCertData, p.AdminKeyData, err = issue(p.AdminCert, p.AdminKey, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore:    now,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, err
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writeKey(p.SAKey, saKey); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAPub, pemBlock("PUBLIC KEY", pubDER), 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeCert(path string, der []byte) error {
	return os.WriteFile(path, pemBlock("CERTIFICATE", der), 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pemBlock("EC PRIVATE KEY", der), 0o600)
}
