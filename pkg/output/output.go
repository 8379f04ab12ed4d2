// Package output writes hubctl's results: YAML streams, JSON lists and
// tables. Data goes to the writer given (stdout); nothing here logs.
package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/gitops-hub/gitops-hub/pkg/output/fastyaml"
)

// Formats accepted by -o.
const (
	FormatYAML  = "yaml"
	FormatJSON  = "json"
	FormatTable = "table"
)

// WriteYAML writes objects as a multi-document YAML stream, documents
// separated by "---". Encoding runs in parallel; the order is kept.
func WriteYAML(w io.Writer, objs []map[string]any) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(objs)/512))
	chunk := (len(objs) + workers - 1) / max(workers, 1)
	bufs := make([][]byte, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		lo, hi := i*chunk, min((i+1)*chunk, len(objs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b []byte
			for j := lo; j < hi; j++ {
				if j > 0 {
					b = append(b, "---\n"...)
				}
				b = fastyaml.Append(b, objs[j])
			}
			bufs[i] = b
		}()
	}
	wg.Wait()
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, b := range bufs {
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteJSON writes objects as a kubectl-style v1 List.
func WriteJSON(w io.Writer, objs []map[string]any) error {
	if objs == nil {
		objs = []map[string]any{}
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(list)
}

// Matrix is a row × column table of cells (e.g. cluster × addon).
type Matrix struct {
	Corner  string
	Rows    []string
	Columns []string
	Cells   map[[2]string]string
}

// WriteMatrix prints m aligned, with "-" for empty cells.
func WriteMatrix(w io.Writer, m Matrix) error {
	rows := append([]string(nil), m.Rows...)
	cols := append([]string(nil), m.Columns...)
	sort.Strings(rows)
	sort.Strings(cols)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(m.Corner)+"\t"+strings.Join(upper(cols), "\t"))
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			v := m.Cells[[2]string{r, c}]
			if v == "" {
				v = "-"
			}
			cells[i] = v
		}
		fmt.Fprintln(tw, r+"\t"+strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func upper(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToUpper(v)
	}
	return out
}
