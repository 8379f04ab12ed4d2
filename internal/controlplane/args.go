package controlplane

import (
	"path/filepath"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Service-account issuer and Service CIDR of every hand-started cluster.
const (
	ServiceAccountIssuer = "https://kubernetes.default.svc"
	ServiceClusterIPs    = "10.0.0.0/24"
)

// EtcdArgs is the command line of a single-member etcd on 127.0.0.1 that
// keeps its data in dataDir. Without fsync: its data is scratch.
func EtcdArgs(name, dataDir string, clientPort, peerPort int) []string {
	client := EtcdURL(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return []string{
		"--name=" + name,
		"--data-dir=" + dataDir,
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=" + name + "=" + peer,
		"--unsafe-no-fsync", "--quota-backend-bytes=2147483648", "--log-level=warn",
	}
}

// EtcdURL is the client URL of an etcd started with EtcdArgs.
func EtcdURL(clientPort int) string { return "http://127.0.0.1:" + strconv.Itoa(clientPort) }

// APIServer describes one kube-apiserver of a shared etcd.
type APIServer struct {
	Name    string // the cluster's name; its data lives under etcd prefix /<Name>
	EtcdURL string
	Port    int    // secure port on 127.0.0.1
	CertDir string // where the apiserver may write generated certificates
	PKI     *PKI
	// Extra are more flags, appended last (so they win).
	Extra []string
}

// Args is the apiserver's command line: 127.0.0.1 only, RBAC, service
// accounts signed by the PKI's key, and --endpoint-reconciler-type=none
// (loopback IPs are invalid in Endpoints).
func (a APIServer) Args() []string {
	p := a.PKI
	return append([]string{
		"--etcd-servers=" + a.EtcdURL,
		"--etcd-prefix=/" + a.Name,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(a.Port),
		"--cert-dir=" + a.CertDir,
		"--tls-cert-file=" + p.ServerCert,
		"--tls-private-key-file=" + p.ServerKey,
		"--client-ca-file=" + p.CACert,
		"--service-account-key-file=" + p.SAPub,
		"--service-account-signing-key-file=" + p.SAKey,
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-cluster-ip-range=" + ServiceClusterIPs,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}, a.Extra...)
}

// Server is the apiserver's URL.
func (a APIServer) Server() string { return "https://127.0.0.1:" + strconv.Itoa(a.Port) }

// WriteKubeconfig writes a self-contained admin kubeconfig for cluster name
// at server (certificates embedded), with mode 0600.
func WriteKubeconfig(path, name, server string, p *PKI) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: p.AdminCertData, ClientKeyData: p.AdminKeyData}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: "admin"}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, filepath.Clean(path))
}
