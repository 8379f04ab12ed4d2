package action

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Where a cluster is known.
const (
	InBoth  = "git+hub"
	OnlyGit = "git only (not registered)"
	OnlyHub = "hub only (unknown to Git)"
)

// ClusterList compares the tree's registry with the hub's cluster Secrets and checks each
// registered cluster's credentials with a real call.
type ClusterList struct {
	Config *Configuration
	// Timeout bounds each cluster's reachability call (default 10 s).
	Timeout time.Duration
	// Parallel is how many clusters are checked at once (default DefaultParallel).
	Parallel int
}

// ClusterInfo is one row of cluster list.
type ClusterInfo struct {
	Name       string   `json:"name"`
	Where      string   `json:"where"`
	Server     string   `json:"server,omitempty"`
	Drift      []string `json:"drift,omitempty"`
	Credential string   `json:"credential,omitempty"`
	// Expires and DaysLeft: a token's exp claim (read without verifying the token).
	Expires  *time.Time `json:"expires,omitempty"`
	DaysLeft *int       `json:"daysLeft,omitempty"`
	Expired  bool       `json:"expired,omitempty"`
	// Reachable: the real call with the stored credentials succeeded; Error says why not.
	Reachable *bool  `json:"reachable,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Problem reports whether the row is a finding: drift, expired credentials or unreachable.
func (c *ClusterInfo) Problem() bool {
	return len(c.Drift) > 0 || c.Expired || (c.Reachable != nil && !*c.Reachable)
}

// Run lists the clusters, sorted by name.
func (l *ClusterList) Run(ctx context.Context) ([]*ClusterInfo, error) {
	cfg := l.Config
	reg, err := registry.LoadGlob(cfg.repo(), conventions.ClusterRegistry)
	if err != nil {
		return nil, err
	}
	_, _, hubByName, err := cfg.hubClusterSecrets(ctx)
	if err != nil {
		return nil, err
	}
	rows := map[string]*ClusterInfo{}
	for name, s := range hubByName {
		rows[name] = &ClusterInfo{Name: name, Where: OnlyHub, Server: string(s.Data[onboard.KeyServer])}
	}
	for _, c := range reg.Clusters {
		r, ok := rows[c.Name]
		if !ok {
			rows[c.Name] = &ClusterInfo{Name: c.Name, Where: OnlyGit, Server: c.Server}
			continue
		}
		r.Where = InBoth
		s := hubByName[c.Name]
		r.Drift = append(drift("label", c.Labels, s.Labels), drift("annotation", c.Annotations, s.Annotations)...)
	}
	var out []*ClusterInfo
	for _, r := range rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })

	timeout, parallel := l.Timeout, l.Parallel
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	now := cfg.now()
	var g errgroup.Group // every cluster, parallel at a time
	g.SetLimit(parallel)
	for _, r := range out {
		s, ok := hubByName[r.Name]
		if !ok {
			continue
		}
		server, cc, err := onboard.ParseClusterSecret(s)
		if err != nil {
			r.Credential, r.Error = "invalid", err.Error()
			f := false
			r.Reachable = &f
			continue
		}
		r.Credential = cc.CredentialKind()
		if r.Credential == "token" {
			if exp, ok := onboard.TokenExpiry(cc.BearerToken); ok {
				days := int(exp.Sub(now).Hours() / 24)
				r.Expires, r.DaysLeft, r.Expired = &exp, &days, !exp.After(now)
			}
		}
		var namespaces []string
		if ns := string(s.Data["namespaces"]); ns != "" {
			namespaces = strings.Split(ns, ",")
		}
		g.Go(func() error {
			err := l.reach(ctx, r.Name, cc, server, namespaces, timeout)
			ok := err == nil
			r.Reachable = &ok
			if err != nil {
				r.Error = err.Error()
			}
			return nil
		})
	}
	_ = g.Wait() // each cluster's outcome is its row, never an error
	return out, nil
}

func (l *ClusterList) reach(ctx context.Context, name string, cc *onboard.ClusterConfig, server string, namespaces []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := l.Config.connectStored(name, server, cc, timeout)
	if err != nil {
		return err
	}
	return onboard.VerifyAccess(ctx, c, namespaces, 0)
}

// drift lists the keys whose values differ between Git and the hub, hubctl's own keys aside.
func drift(what string, git, hub map[string]string) []string {
	keys := map[string]bool{}
	for k := range maps.Keys(git) {
		keys[k] = true
	}
	for k := range maps.Keys(hub) {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if conventions.IsHubctlKey(k) {
			continue
		}
		g, inGit := git[k]
		h, inHub := hub[k]
		switch {
		case inGit && !inHub:
			out = append(out, fmt.Sprintf("%s %s=%q only in Git", what, k, g))
		case !inGit && inHub:
			out = append(out, fmt.Sprintf("%s %s=%q only in the hub", what, k, h))
		case g != h:
			out = append(out, fmt.Sprintf("%s %s: Git %q, hub %q", what, k, g, h))
		}
	}
	sort.Strings(out)
	return out
}
