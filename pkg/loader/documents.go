// Package loader reads the GitOps repository through an fs.FS, so the same
// code serves a working tree and a Git revision. It splits multi-document
// YAML streams and keeps, for every document, the file and line it came from.
package loader

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Document is one YAML document of a file.
type Document struct {
	File  string // path inside the repository (or as given on the command line)
	Line  int    // 1-based line of the document's first line in File
	Index int    // 0-based position of the document in File
	Data  []byte
}

// Pos renders "file:line" for messages.
func (d Document) Pos() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// PosAt renders the position of a line relative to the document.
func (d Document) PosAt(relLine int) string {
	if relLine <= 0 {
		return d.Pos()
	}
	return fmt.Sprintf("%s:%d", d.File, d.Line+relLine-1)
}

// SplitDocuments splits a YAML stream at `---` separator lines. Documents
// that hold only comments or blank lines are dropped.
func SplitDocuments(file string, data []byte) []Document {
	var docs []Document
	start, startLine, line := 0, 1, 1
	emit := func(end int) {
		chunk := data[start:end]
		if !isBlankYAML(chunk) {
			docs = append(docs, Document{File: file, Line: startLine, Index: len(docs), Data: chunk})
		}
	}
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if j >= 0 {
			next = i + j + 1
		}
		l := bytes.TrimRight(data[i:next], "\r\n")
		if isSeparator(l) {
			emit(i)
			rest := bytes.TrimSpace(l[3:])
			if len(rest) > 0 && rest[0] != '#' {
				// `--- value` starts a document on the separator line.
				start, startLine = i+3, line
			} else {
				start, startLine = next, line+1
			}
		} else if bytes.Equal(l, []byte("...")) {
			emit(i)
			start, startLine = next, line+1
		}
		i = next
		line++
	}
	emit(len(data))
	return docs
}

func isSeparator(l []byte) bool {
	return bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

func isBlankYAML(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("%YAML")) && !bytes.HasPrefix(l, []byte("%")) {
			return false
		}
	}
	return true
}

// IsYAMLFile reports whether name has a YAML or JSON extension.
func IsYAMLFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// WalkYAML returns the YAML files below dir in fsys, in lexical order.
// Hidden directories (".git", ...) are skipped.
func WalkYAML(fsys fs.FS, dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if !d.IsDir() && IsYAMLFile(p) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// ShiftLines rewrites "line N" in a YAML decoder message into a file
// position relative to the document, so that errors name the real line.
func (d Document) ShiftLines(msg string) string {
	return lineRE.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[5:])
		if err != nil {
			return m
		}
		return fmt.Sprintf("line %d", d.Line+n-1)
	})
}
