package diff

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// MarkdownLimit is the largest pull-request comment a code host accepts
// (GitHub: 65,536 characters); WriteMarkdown counts bytes, which is stricter.
const MarkdownLimit = 65536

// trailerReserve keeps room for the closing line that counts what was left
// out.
const trailerReserve = 512

// mdBuf writes Markdown within a byte budget.
type mdBuf struct {
	b     strings.Builder
	limit int
}

func (m *mdBuf) fits(s string, keep int) bool { return m.b.Len()+len(s)+keep <= m.limit }

func (m *mdBuf) add(s string, keep int) bool {
	if !m.fits(s, keep) {
		return false
	}
	m.b.WriteString(s)
	return true
}

// WriteMarkdown writes a report that fits one pull-request comment of at
// most limit bytes: the summary first (headline, deletion warnings, the
// impact matrix of the clusters that change), then one collapsible section
// per cluster with its Applications and object diffs. What does not fit is
// left out, and the last line counts it.
func (r *Report) WriteMarkdown(w io.Writer, limit int) error {
	if limit <= trailerReserve*2 {
		return fmt.Errorf("markdown limit %d is too small", limit)
	}
	m := &mdBuf{limit: limit - trailerReserve}
	var leftRows, leftWarnings, leftClusters, leftApps, leftObjects, leftDiffs int

	m.add(fmt.Sprintf("### hubctl diff `%s`..`%s`\n\n%s\n\n", mdCode(ShortRev(r.Base)), mdCode(ShortRev(r.Head)), mdText(r.headline())), 0)
	if warns := r.warnings(); len(warns) > 0 {
		m.add("> [!WARNING]\n", 0)
		for i, warn := range warns {
			if !m.add("> - "+mdText(warn)+"\n", limit/4) {
				leftWarnings = len(warns) - i
				break
			}
		}
		m.add("\n", 0)
	}
	mx := r.Matrix()
	var touched []string
	for _, c := range mx.Clusters {
		if mx.RowTouched(c) {
			touched = append(touched, c)
		}
	}
	if len(touched) > 0 {
		hdr := "| cluster |"
		sep := "|---|"
		for _, a := range mx.Addons {
			hdr += " " + mdText(a) + " |"
			sep += "---|"
		}
		m.add(hdr+"\n"+sep+"\n", 0)
		for i, c := range touched {
			row := "| " + mdText(c) + " |"
			for _, a := range mx.Addons {
				row += " " + mx.Cell(c, a) + " |"
			}
			// The matrix takes at most half of the comment.
			if !m.add(row+"\n", limit/2) {
				leftRows = len(touched) - i
				break
			}
		}
		note := "\nApplications: + added, - removed, ~ changed, = unchanged."
		if n := len(mx.Clusters) - len(touched); n > 0 {
			note += fmt.Sprintf(" %d cluster(s) without changes are not shown.", n)
		}
		m.add(note+"\n\n", 0)
	}

	order, groups := r.byCluster()
	for ci, c := range order {
		apps := groups[c]
		open := fmt.Sprintf("<details><summary><b>%s</b>: %s</summary>\n\n", html.EscapeString(c), html.EscapeString(clusterCounts(apps)))
		const closing = "</details>\n\n"
		if !m.add(open, len(closing)) {
			for _, rest := range order[ci:] {
				leftClusters++
				leftApps += len(groups[rest])
			}
			break
		}
		for _, a := range apps {
			line := fmt.Sprintf("**`%s`** (%s): %s\n\n", mdCode(a.Name), mdText(a.AppSet), mdText(a.label()))
			if !m.add(line, len(closing)) {
				leftApps++
				continue
			}
			if a.SpecDiff != "" && !m.add(fence(a.SpecDiff), len(closing)) {
				leftDiffs++
			}
			objs := a.Objects
			if a.RenamedFrom != "" {
				objs = a.RenameObjects
				if len(objs) == 0 {
					m.add(fmt.Sprintf("Objects identical to those of `%s`.\n", mdCode(a.RenamedFrom)), len(closing))
				}
			}
			for _, o := range objs {
				item := fmt.Sprintf("- `%s`: %s\n", mdCode(o.ID()), mdText(o.label(a)))
				if !m.add(item, len(closing)) {
					leftObjects++
					continue
				}
				if a.RenamedTo != "" || a.Change == Added || o.Change == Removed && a.Change == Removed {
					continue // whole objects of an added or removed Application: listed, not printed
				}
				if !m.add("\n"+fence(o.Diff), len(closing)) {
					leftDiffs++
				}
			}
			m.add("\n", len(closing))
		}
		m.b.WriteString(closing)
	}
	out := m.b.String()
	if leftRows+leftWarnings+leftClusters+leftApps+leftObjects+leftDiffs > 0 {
		out += fmt.Sprintf("_Left out to fit one comment: %d warning(s), %d matrix row(s), %d cluster section(s), %d Application(s), %d object(s), %d diff(s). Run `hubctl diff` for everything._\n",
			leftWarnings, leftRows, leftClusters, leftApps, leftObjects, leftDiffs)
	}
	_, err := io.WriteString(w, out)
	return err
}

func clusterCounts(apps []*AppDiff) string {
	n := map[Change]int{}
	for _, a := range apps {
		n[a.Change]++
	}
	var parts []string
	for _, c := range []Change{Added, Removed, Changed} {
		if n[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[c], c))
		}
	}
	return strings.Join(parts, ", ")
}

// fence wraps a diff in a code fence longer than any backtick run in it.
func fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return f + "diff\n" + s + f + "\n"
}

// mdText escapes text for Markdown (and the HTML it may contain).
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode makes s safe inside a single-backtick code span.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", "\\|").Replace(s)
}
