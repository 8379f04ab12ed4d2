package diff

import (
	"fmt"
	"sort"
	"strings"
)

// Cell counts the Applications of one cluster and addon by change.
type Cell struct {
	Added, Removed, Changed, Unchanged int
}

// String is the cell as printed: "+1 -1 ~1 =1", the counts that are not 0.
func (c Cell) String() string {
	var parts []string
	for _, p := range []struct {
		sign string
		n    int
	}{{"+", c.Added}, {"-", c.Removed}, {"~", c.Changed}, {"=", c.Unchanged}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", p.sign, p.n))
		}
	}
	return strings.Join(parts, " ")
}

// Touched reports whether anything in the cell changed.
func (c Cell) Touched() bool { return c.Added+c.Removed+c.Changed > 0 }

// Matrix is the impact matrix: cluster × addon.
type Matrix struct {
	Clusters []string
	Addons   []string
	Cells    map[string]map[string]*Cell // cluster -> addon
}

// Matrix builds the impact matrix of the report.
func (r *Report) Matrix() *Matrix {
	m := &Matrix{Cells: map[string]map[string]*Cell{}}
	addons := map[string]bool{}
	cell := func(cluster, appSet string) *Cell {
		a := Addon(appSet)
		addons[a] = true
		row := m.Cells[cluster]
		if row == nil {
			row = map[string]*Cell{}
			m.Cells[cluster] = row
			m.Clusters = append(m.Clusters, cluster)
		}
		if row[a] == nil {
			row[a] = &Cell{}
		}
		return row[a]
	}
	for _, a := range r.Apps {
		c := cell(a.Cluster, a.AppSet)
		switch a.Change {
		case Added:
			c.Added++
		case Removed:
			c.Removed++
		case Changed:
			c.Changed++
		}
	}
	for _, u := range r.Unchanged {
		cell(u.Cluster, u.AppSet).Unchanged++
	}
	sort.Strings(m.Clusters)
	for a := range addons {
		m.Addons = append(m.Addons, a)
	}
	sort.Strings(m.Addons)
	return m
}

// RowTouched reports whether any cell of the cluster's row changed.
func (m *Matrix) RowTouched(cluster string) bool {
	for _, c := range m.Cells[cluster] {
		if c.Touched() {
			return true
		}
	}
	return false
}

// Cell returns the cell of a cluster and addon ("" when none).
func (m *Matrix) Cell(cluster, addon string) string {
	if c := m.Cells[cluster][addon]; c != nil {
		return c.String()
	}
	return ""
}

// byCluster groups the changed Applications by cluster, in order.
func (r *Report) byCluster() ([]string, map[string][]*AppDiff) {
	var order []string
	groups := map[string][]*AppDiff{}
	for _, a := range r.Apps {
		if groups[a.Cluster] == nil {
			order = append(order, a.Cluster)
		}
		groups[a.Cluster] = append(groups[a.Cluster], a)
	}
	return order, groups
}

// headline is the one-line summary.
func (r *Report) headline() string {
	s := r.Summary()
	line := fmt.Sprintf("%d Application(s) changed, %d added, %d removed, %d unchanged", s.Changed, s.Added, s.Removed, s.Unchanged)
	if s.Renames > 0 {
		line += fmt.Sprintf("; %d rename(s)", s.Renames)
	}
	return line
}

// warnings are the deletions a reviewer must see first.
func (r *Report) warnings() []string {
	var out []string
	for _, a := range r.Apps {
		if a.Change == Removed && a.DeletesResources {
			n := 0
			for _, o := range a.Objects {
				if o.Pruned {
					n++
				}
			}
			w := fmt.Sprintf("Application %s (cluster %s) is removed and its resources finalizer deletes %d object(s) from the cluster", a.Name, a.Cluster, n)
			if a.RenamedTo != "" {
				w += fmt.Sprintf("; %s re-creates them after the rename", a.RenamedTo)
			}
			out = append(out, w)
		}
		pruned := 0
		for _, o := range a.Objects {
			if a.Change == Changed && o.Pruned {
				pruned++
			}
		}
		if pruned > 0 {
			out = append(out, fmt.Sprintf("Application %s (cluster %s) prunes %d object(s) (automated sync with prune: true)", a.Name, a.Cluster, pruned))
		}
	}
	return out
}

// label describes an Application's change, with its rename and deletion.
func (a *AppDiff) label() string {
	switch {
	case a.RenamedTo != "":
		s := "removed, renamed to " + a.RenamedTo
		if a.DeletesResources {
			return s + " (the resources finalizer deletes its resources)"
		}
		return s + " (resources kept: no resources finalizer)"
	case a.RenamedFrom != "":
		return "added, renamed from " + a.RenamedFrom
	case a.Change == Removed && a.DeletesResources:
		return "removed (the resources finalizer deletes its resources)"
	case a.Change == Removed:
		return "removed (resources kept: no resources finalizer)"
	}
	return string(a.Change)
}

// label describes an object's change, with whether a removal prunes it.
func (o *ObjectDiff) label(app *AppDiff) string {
	if o.Change != Removed {
		return string(o.Change)
	}
	if o.Pruned {
		return "removed (deleted from the cluster)"
	}
	if app.Change == Removed {
		return "removed (stays in the cluster)"
	}
	return "removed (not pruned: stays in the cluster, OutOfSync)"
}
