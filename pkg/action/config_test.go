package action_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

const value = "hunter2-do-not-print"

func TestConfigSetData(t *testing.T) {
	dir := t.TempDir()
	objstore := filepath.Join(dir, "objstore.yml")
	if err := os.WriteFile(objstore, []byte("type: S3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientset()
	o := &action.ConfigSet{Hub: c, Client: "clientA", Name: "thanos", Literals: []string{"user=" + value, "empty="},
		Files: []string{"config=" + objstore, objstore, "piped=-"}, Stdin: strings.NewReader("from-stdin")}
	in, err := o.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CoreV1().Secrets("client-clienta").Get(context.Background(), "thanos", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["user"]) != value || string(s.Data["config"]) != "type: S3\n" || string(s.Data["objstore.yml"]) != "type: S3\n" || len(s.Data["empty"]) != 0 || string(s.Data["piped"]) != "from-stdin" || len(s.Data) != 5 {
		t.Errorf("data keys %d", len(s.Data))
	}
	var out bytes.Buffer
	if err := action.WriteSecretInfos(&out, "table", []hubconfig.Info{in}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), value) || !strings.Contains(out.String(), hubconfig.ShortHash([]byte(value))) || !strings.Contains(out.String(), "objstore.yml") {
		t.Errorf("table:\n%s", out.String())
	}
	out.Reset()
	if err := action.WriteSecretInfos(&out, "json", []hubconfig.Info{in}); err != nil {
		t.Fatal(err)
	}
	var back []hubconfig.Info
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back) != 1 || len(back[0].Keys) != 5 || strings.Contains(out.String(), value) {
		t.Errorf("json: %v\n%s", err, out.String())
	}
	if err := action.WriteSecretInfos(&out, "yaml", nil); err == nil {
		t.Error("unknown format: no error")
	}
}

func TestConfigSetBadInput(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, hubconfig.MaxSecretBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]*action.ConfigSet{
		"no data":         {},
		"no equals":       {Literals: []string{value}},
		"empty key":       {Literals: []string{"=" + value}},
		"duplicate":       {Literals: []string{"k=" + value, "k=" + value}},
		"missing file":    {Files: []string{"k=" + filepath.Join(dir, "nope")}},
		"directory":       {Files: []string{"k=" + dir}},
		"too large":       {Files: []string{"k=" + big}},
		"bad key":         {Literals: []string{"a/b=" + value}},
		"bad secret name": {Literals: []string{"k=v"}, Name: "UPPER"},
		"stdin twice":     {Files: []string{"a=-", "b=-"}, Stdin: strings.NewReader(value)},
		"stdin unnamed":   {Files: []string{"-"}, Stdin: strings.NewReader(value)},
		"stdin too large": {Files: []string{"a=-"}, Stdin: bytes.NewReader(make([]byte, hubconfig.MaxSecretBytes+1))},
	} {
		c := fake.NewClientset()
		o.Hub, o.Client = c, "clientA"
		if o.Name == "" {
			o.Name = "s"
		}
		_, err := o.Run(context.Background())
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), value) {
			t.Errorf("%s: error quotes the value: %v", name, err)
		}
		if l, _ := c.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
			t.Errorf("%s: a Secret was written", name)
		}
	}
}
