package action

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// External Secrets Operator in the local fleet (docs/central-config.md).
const (
	// ESOLabel turns the external-secrets addon on for a cluster.
	ESOLabel = conventions.EnablePrefix + "external_secrets"
	// GrafanaAdminSecret is the client's Secret on the hub that the
	// external-secrets addon's ExternalSecret grafana-admin reads (key
	// GrafanaAdminKey): kube-prometheus-stack's Grafana admin password.
	GrafanaAdminSecret = "grafana-admin"
	GrafanaAdminKey    = "admin-password"
)

// LocalESOClusters are the local clusters whose registry entry turns the
// external-secrets addon on: the fleet runs ESO's controller for each.
func LocalESOClusters(locals []*registry.Cluster) []string {
	var out []string
	for _, c := range locals {
		if c.Labels[ESOLabel] == "true" {
			out = append(out, c.Name)
		}
	}
	return out
}

// localESOClients are the clients (registry label) of the local clusters
// that run ESO, each once, in order.
func localESOClients(locals []*registry.Cluster) []string {
	var out []string
	for _, c := range locals {
		if client := clientOf(c.Labels); c.Labels[ESOLabel] == "true" && client != "" && !slices.Contains(out, client) {
			out = append(out, client)
		}
	}
	return out
}

// SeedGrafanaAdmin gives client a Grafana admin password on the local hub
// when it has none: the Secret GrafanaAdminSecret with a random
// GrafanaAdminKey (never printed), set with `hubctl config set`'s verb, so
// that the client's ExternalSecret grafana-admin is Ready and the fleet
// converges without a manual step. An existing Secret is left as it is: a
// password set with `hubctl config set` survives `hubctl up` again.
func SeedGrafanaAdmin(ctx context.Context, hub *kube.Cluster, client string, progress io.Writer) error {
	_, err := hubconfig.Get(ctx, hub.Client, client, GrafanaAdminSecret)
	if err == nil {
		fmt.Fprintf(progress, "   client %s has its %s secret already\n", client, GrafanaAdminSecret)
		return nil
	}
	if !errors.Is(err, hubconfig.ErrNotFound) {
		return err
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	info, err := (&ConfigSet{Hub: hub.Client, Client: client, Name: GrafanaAdminSecret,
		Literals: []string{GrafanaAdminKey + "=" + base64.RawURLEncoding.EncodeToString(pw)}}).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "   set %s/%s (a random %s)\n", info.Namespace, info.Name, GrafanaAdminKey)
	return nil
}

// seedActions are the steps of `hubctl up` that give each local client with
// ESO its initial Secrets on the hub.
func seedActions(f *localfleet.Fleet, locals []*registry.Cluster, progress io.Writer) []localfleet.Action {
	var out []localfleet.Action
	for _, client := range localESOClients(locals) {
		out = append(out, localfleet.Action{Name: "Setting client " + client + "'s initial " + GrafanaAdminSecret + " secret on the hub (unless set)",
			Run: func(ctx context.Context) error {
				hub, err := kube.Load(HubName, f.Kubeconfig(HubName))
				if err != nil {
					return err
				}
				return SeedGrafanaAdmin(ctx, hub, client, progress)
			}})
	}
	return out
}
