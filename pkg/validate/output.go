package validate

import (
	"encoding/json"
	"fmt"
	"io"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// WriteText writes one line per finding, "file:line: severity: rule:
// object: message", then a summary line.
func WriteText(w io.Writer, r *Report) error {
	var errs, warns int
	for _, f := range r.Findings {
		pos := f.File
		if f.Line > 0 {
			pos = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		obj := ""
		if f.Object != "" {
			obj = f.Object + ": "
		}
		if _, err := fmt.Fprintf(w, "%s: %s: [%s] %s%s\n", pos, f.Severity, f.Rule, obj, f.Message); err != nil {
			return err
		}
		if f.Severity == Error {
			errs++
		} else {
			warns++
		}
	}
	_, err := fmt.Fprintf(w, "%d error(s), %d warning(s)\n", errs, warns)
	return err
}

// WriteJSON writes {"findings": [...]}.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the subset
// code hosts read to annotate a pull request.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId"`
	} `json:"artifactLocation"`
	Region *sarifRegion `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// SARIFSchema is the schema URI written in SARIF output.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// WriteSARIF writes r as a SARIF 2.1.0 log with one run of tool "hubctl";
// locations are relative to the repository root (uriBaseId %SRCROOT%).
// version is hubctl's version.
func WriteSARIF(w io.Writer, r *Report, version string) error {
	rules := Rules()
	index := map[string]int{}
	drv := sarifDriver{Name: "hubctl", Version: version, Rules: make([]sarifRule, len(rules))}
	for i, rl := range rules {
		index[rl.ID] = i
		sr := sarifRule{ID: rl.ID, ShortDescription: sarifMessage{Text: rl.Rationale}}
		sr.DefaultConfiguration.Level = string(rl.Severity)
		drv.Rules[i] = sr
	}
	run := sarifRun{Tool: sarifTool{Driver: drv}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		text := f.Message
		if f.Object != "" {
			text = f.Object + ": " + f.Message
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = f.File
		loc.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: string(f.Severity),
			Message: sarifMessage{Text: text}, Locations: []sarifLocation{loc}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}
