// Package fleetgen writes synthetic cluster registries for benchmarks and
// scale tests: N Argo CD cluster Secrets shaped like the shipped ones
// (environment, client, enable_<addon> labels; addons_repo_* annotations).
package fleetgen

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// Addons are the enable_<addon> labels of the shipped ApplicationSets.
var Addons = []string{"argocd", "crossplane", "kube_prometheus_stack", "backstage", "ingress_nginx", "aws_for_fluent_bit"}

var environments = []string{"develop", "staging", "prod"}

// Write writes n cluster Secrets as a multi-document YAML stream. The
// output depends only on n and seed. Every cluster enables argocd and, with
// probability 0.8 each, the other addons: about 5 Applications per cluster.
func Write(w io.Writer, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < n; i++ {
		env := environments[i%len(environments)]
		client := fmt.Sprintf("client%04d", i/len(environments))
		name := fmt.Sprintf("eks-%s-%s-services", env, client)
		if _, err := fmt.Fprintf(w, `---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-%s
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    environment: %s
    client: %s
`, name, env, client); err != nil {
			return err
		}
		for j, a := range Addons {
			if j == 0 || r.Float64() < 0.8 {
				if _, err := fmt.Fprintf(w, "    enable_%s: \"true\"\n", a); err != nil {
					return err
				}
			}
		}
		if _, err := fmt.Fprintf(w, `  annotations:
    addons_repo_url: https://github.com/gitops-hub/gitops-hub.git
    addons_repo_revision: main
type: Opaque
stringData:
  name: %s
  server: https://%08x.gr7.us-east-1.eks.amazonaws.com
`, name, r.Uint32()); err != nil {
			return err
		}
	}
	return nil
}
