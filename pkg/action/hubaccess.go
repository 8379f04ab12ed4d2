package action

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// HubAccess is what a hosting cluster's External Secrets Operator was given to read its
// client's Secrets on the hub (docs/central-config.md): the hub ServiceAccount and the
// Secret in the hosting cluster that holds its token, the hub's CA and the hub's URL.
type HubAccess struct {
	ServiceAccount string    `json:"serviceAccount"` // <client namespace>/eso-<cluster> on the hub
	Credentials    string    `json:"credentials"`    // external-secrets/hub-credentials in the hosting cluster
	Server         string    `json:"server"`         // the hub URL the hosting cluster reaches
	Expires        time.Time `json:"expires"`
}

// hubServerFor is the hub URL given to a hosting cluster: the explicit one, else the hub
// kubeconfig's (right when the hosting clusters reach the hub at the same address as the
// operator does; for real hubs give the hub's API endpoint as the hosting clusters see it).
func hubServerFor(hub *kube.Cluster, explicit string) string {
	if explicit != "" {
		return strings.TrimRight(explicit, "/")
	}
	return strings.TrimRight(hub.Config.Host, "/")
}

// grantHubAccess gives cluster (of client) read access to its client's namespace on the hub
// and places the token, the hub's CA and hubServer in the hosting cluster.
func grantHubAccess(ctx context.Context, hub, hosting *kube.Cluster, cluster, client, hubServer string, ttl time.Duration) (*HubAccess, error) {
	ca, err := onboard.HubCA(hub.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: reading its CA: %w", hub, err)
	}
	acc, err := onboard.EnsureClientSecretAccess(ctx, hub.Client, cluster, client, ttl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hub, err)
	}
	if err := onboard.PlaceHubToken(ctx, hosting.Client, acc.Token, hubServer, ca); err != nil {
		return nil, fmt.Errorf("%s: %w", hosting, err)
	}
	return &HubAccess{
		ServiceAccount: acc.Namespace + "/" + acc.ServiceAccount,
		Credentials:    onboard.ESONamespace + "/" + onboard.HubCredentialsSecret,
		Server:         hubServer, Expires: acc.ExpiresAt,
	}, nil
}

// clientOf is a cluster's client label (registry entry or hub Secret labels).
func clientOf(labels map[string]string) string {
	return labels[conventions.ClientLabel]
}
