package localfleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stopOrder is the order Down stops the processes in: Argo CD first (it
// uses everything else), then the chart server, the git daemon and redis.
// Processes with other names follow; the network namespace holder is last.
func stopOrder() []string {
	return []string{ProcServer, ProcAppSet, ProcController, ProcRepoServer, ProcChartServer, ProcGitDaemon, ProcRedis}
}

// Down removes the fleet: it stops every process recorded under
// <state>/pids (Argo CD, the chart server, the git daemon, redis, ...), deletes
// every cluster (those in fleet.json and any left in KWOK_WORKDIR, hosting
// clusters before the hub, with kwokctl delete cluster), stops the network
// namespace holder, and removes the state directory. It is idempotent: no
// state directory is not an error, processes already gone are skipped, and
// a second Down does nothing. It refuses to remove a non-empty directory
// without the fleet's marker. When a process cannot be stopped the state
// directory stays (run Down again), and the error names the process.
func (f *Fleet) Down(ctx context.Context) error {
	if f.StateDir == "" || !filepath.IsAbs(f.StateDir) || filepath.Clean(f.StateDir) == "/" {
		return fmt.Errorf("down: state directory %q: want an absolute path", f.StateDir)
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.Clean(f.StateDir) == filepath.Clean(home) {
		return fmt.Errorf("down: refusing to remove the home directory %s", f.StateDir)
	}
	if _, err := os.Stat(f.StateDir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := ownStateDir(f.StateDir); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	if f.BinDir == "" && os.Getenv(EnvBinDir) == "" {
		if s, err := LoadState(f.StateDir); err == nil && s.BinDir != "" {
			g := *f // kwokctl as recorded, without changing the caller's Fleet
			g.BinDir = s.BinDir
			f = &g
		}
	}
	var errs []error
	procs := f.procs()

	// Processes, in order, then any others but the holder.
	names := stopOrder()
	if recs, err := procs.List(); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range recs {
			if !slices.Contains(names, r.Name) && r.Name != ProcNetnsHolder && r.Name != ProcSharedEtcd {
				names = append(names, r.Name)
			}
		}
	}
	names = append(names, ProcSharedEtcd) // after the apiservers that use it
	for _, name := range names {
		if _, err := procs.Record(name); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		fmt.Fprintf(f.out(), " • Stopping %s\n", name)
		if err := procs.Stop(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}

	// Clusters: recorded ones in reverse creation order (the hub was first),
	// then whatever else kwokctl has.
	var clusters []string
	if s, err := LoadState(f.StateDir); err == nil {
		for i := len(s.Clusters) - 1; i >= 0; i-- {
			clusters = append(clusters, s.Clusters[i].Name)
		}
	}
	for _, c := range f.kwokClusters() {
		if !slices.Contains(clusters, c) {
			clusters = append(clusters, c)
		}
	}
	for _, c := range clusters {
		fmt.Fprintf(f.out(), " • Deleting cluster %s\n", c)
		if err := f.DeleteCluster(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}

	if _, err := procs.Record(ProcNetnsHolder); err == nil {
		if err := procs.Stop(ctx, ProcNetnsHolder); err != nil {
			errs = append(errs, err)
		}
	}

	// Remove the state only when nothing recorded still runs.
	var running []string
	if recs, err := procs.List(); err == nil {
		for _, r := range recs {
			if r.Alive() {
				running = append(running, fmt.Sprintf("%s (pid %d)", r.Name, r.PID))
			}
		}
	}
	for _, c := range f.kwokClusters() {
		for _, r := range f.kwokComponents(c) {
			running = append(running, fmt.Sprintf("%s (pid %d)", r.Name, r.PID))
		}
	}
	if len(running) > 0 {
		errs = append(errs, fmt.Errorf("still running, so %s is kept (run down again): %v", f.StateDir, running))
		return fmt.Errorf("down: %w", errors.Join(errs...))
	}
	if err := os.RemoveAll(f.StateDir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	return nil
}
