package status

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// States of a client's Argo CD on one hosting cluster.
const (
	// ClientRead: its Applications were listed.
	ClientRead = "Read"
	// ClientNotInstalled: the hosting cluster serves no applications.argoproj.io API (no Argo
	// CD there, or its CRDs are missing). Not a finding: the hub's matrix already shows the
	// argo-cd addon of that cluster, and a cluster without the addon has no Argo CD.
	ClientNotInstalled = "NotInstalled"
	// ClientUnavailable: it could not be read (unreachable, credentials refused or
	// unusable, the call forbidden, timed out). A finding: its state is unknown.
	ClientUnavailable = "Unavailable"
)

// ClientArgoCD is the client's Argo CD on one hosting cluster, read through the hub's
// registration of that cluster (its Argo CD cluster Secret's credentials).
type ClientArgoCD struct {
	Cluster     string `json:"cluster"`
	Environment string `json:"environment,omitempty"`
	Server      string `json:"server,omitempty"`
	Namespace   string `json:"namespace"` // the client's Argo CD namespace in the hosting cluster
	State       string `json:"state"`     // Read, NotInstalled or Unavailable
	Error       string `json:"error,omitempty"`
	Apps        []App  `json:"applications"`
}

// Unavailable reports whether the cluster could not be read.
func (c ClientArgoCD) Unavailable() bool { return c.State == ClientUnavailable }

// ClientUnavailableError is the entry of a cluster that could not even be asked (credentials
// that cannot be parsed, a client that cannot be built): err names the cluster.
func ClientUnavailableError(cluster, environment, server, namespace string, err error) ClientArgoCD {
	return ClientArgoCD{Cluster: cluster, Environment: environment, Server: server, Namespace: namespace, State: ClientUnavailable, Error: err.Error(), Apps: []App{}}
}

// ReadClient lists the Applications of namespace on a hosting cluster, with the client dyn
// built from the hub's registration of cluster. It never fails: a cluster without the
// Application API is NotInstalled, any other error Unavailable, with a message naming the
// cluster, its server and the API call. An Application whose destination is the hosting
// cluster itself (in-cluster) is shown on that cluster.
func ReadClient(ctx context.Context, dyn dynamic.Interface, cluster, environment, server, namespace string) ClientArgoCD {
	c := ClientArgoCD{Cluster: cluster, Environment: environment, Server: server, Namespace: namespace, Apps: []App{}}
	l, err := dyn.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		where := "cluster " + cluster
		if server != "" {
			where += " (" + server + ")"
		}
		call := "list applications.argoproj.io in namespace " + namespace
		if apierrors.IsNotFound(err) || isNoMatch(err) {
			c.State = ClientNotInstalled
			c.Error = fmt.Sprintf("%s: %s: no Argo CD there (the applications.argoproj.io API is not served): %v", where, call, err)
			return c
		}
		c.State = ClientUnavailable
		c.Error = fmt.Sprintf("%s: %s with the hub's stored credentials: %v", where, call, err)
		return c
	}
	c.State = ClientRead
	for _, a := range Build(ptrs(l.Items), nil).Apps {
		if a.Cluster == InClusterName {
			a.Cluster = cluster
		}
		a.Environment = environment
		c.Apps = append(c.Apps, a)
	}
	return c
}

// SortClients orders the clusters by name.
func SortClients(cs []ClientArgoCD) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Cluster < cs[j].Cluster })
}

// ClientSummary counts the client view: Applications Synced and Healthy of all read, and the
// clusters that could not be read or have no Argo CD.
type ClientSummary struct {
	Clusters     int      `json:"clusters"`
	Total        int      `json:"total"`
	Ready        int      `json:"ready"`
	NotReady     []string `json:"notReady"`     // <cluster>/<application>
	Unavailable  []string `json:"unavailable"`  // clusters
	NotInstalled []string `json:"notInstalled"` // clusters
}

// Findings are what makes status exit 1: Applications not Synced and Healthy, and clusters
// that could not be read.
func (s ClientSummary) Findings() int { return len(s.NotReady) + len(s.Unavailable) }

// ClientSummary counts the client view (nil when it was not read).
func (f *Fleet) ClientSummary() *ClientSummary {
	if f.Clients == nil {
		return nil
	}
	s := &ClientSummary{Clusters: len(f.Clients), NotReady: []string{}, Unavailable: []string{}, NotInstalled: []string{}}
	for _, c := range f.Clients {
		switch c.State {
		case ClientUnavailable:
			s.Unavailable = append(s.Unavailable, c.Cluster)
		case ClientNotInstalled:
			s.NotInstalled = append(s.NotInstalled, c.Cluster)
		}
		for _, a := range c.Apps {
			s.Total++
			if a.Ready() {
				s.Ready++
			} else {
				s.NotReady = append(s.NotReady, c.Cluster+"/"+a.Name)
			}
		}
	}
	return s
}

// Text is the summary line status prints on stderr.
func (s ClientSummary) Text() string {
	t := fmt.Sprintf("client Argo CD: %d/%d Applications Synced and Healthy on %d hosting cluster(s)", s.Ready, s.Total, s.Clusters)
	var extra []string
	if n := len(s.Unavailable); n > 0 {
		extra = append(extra, fmt.Sprintf("%d unavailable", n))
	}
	if n := len(s.NotInstalled); n > 0 {
		extra = append(extra, fmt.Sprintf("%d without Argo CD", n))
	}
	if len(extra) > 0 {
		t += " (" + strings.Join(extra, ", ") + ")"
	}
	return t
}

// clientWhere names a client Application: its Argo CD's hosting cluster, and the destination
// when it deploys elsewhere.
func clientWhere(c ClientArgoCD, a App) string {
	s := "(client Argo CD on cluster " + c.Cluster
	if a.Cluster != c.Cluster {
		s += ", destination " + a.Cluster
	}
	return s + ")"
}

// clientCell is what a cluster without Applications shows in the table.
func clientCell(c ClientArgoCD) string {
	switch c.State {
	case ClientUnavailable:
		return "(unavailable)"
	case ClientNotInstalled:
		return "(no Argo CD)"
	}
	return "(no Applications)"
}
