package manifests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/pkg/util"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// The functions of this file reimplement, on a parsed kustomization, the
// `kustomize edit` commands that Argo CD's kustomize Build runs
// (kubernetes-sigs/kustomize kustomize/commands/edit: set image, set
// replicas, add label, add annotation, add component), with their parsing
// and merging rules.

// setImages is `kustomize edit set image ARGS...` (kustomize v5): every
// argument is "[name=]newName[:tag][@digest]" ("name:tag", "name@digest"
// without "="); it replaces the images entry of that name, "*" as newName,
// tag or digest keeping the existing value; other entries are kept; the
// result is sorted by name.
func setImages(k *types.Kustomization, args []string) error {
	set := map[string]types.Image{}
	for _, arg := range args {
		img, err := parseImageArg(arg)
		if err != nil {
			return err
		}
		set[img.Name] = img
	}
	for _, old := range k.Images {
		img, ok := set[old.Name]
		if !ok {
			set[old.Name] = old
			continue
		}
		if img.NewName == "*" {
			img = types.Image{Name: img.Name, NewName: old.NewName, NewTag: img.NewTag, Digest: img.Digest}
		}
		if img.NewTag == "*" {
			img = types.Image{Name: img.Name, NewName: img.NewName, NewTag: old.NewTag, Digest: img.Digest}
		}
		if img.Digest == "*" {
			img = types.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: old.Digest}
		}
		set[old.Name] = img
	}
	images := make([]types.Image, 0, len(set))
	for _, img := range set {
		if img.NewName == "*" {
			img.NewName = ""
		}
		if img.NewTag == "*" {
			img.NewTag = ""
		}
		if img.Digest == "*" {
			img.Digest = ""
		}
		images = append(images, img)
	}
	sort.Slice(images, func(i, j int) bool { return images[i].Name < images[j].Name })
	k.Images = images
	return nil
}

func parseImageArg(arg string) (types.Image, error) {
	key, value, hasKey := strings.Cut(arg, "=")
	if !hasKey {
		key, value = "", arg
	}
	name, tag, digest := util.SplitImageName(value)
	if name == arg {
		return types.Image{}, fmt.Errorf("image %q: expected [<image>=]<newimage>[:<newtag>][@<digest>], with at least a new name, tag or digest", arg)
	}
	img := types.Image{NewTag: tag, Digest: digest}
	if key == "" {
		img.Name = name
	} else {
		img.Name, img.NewName = key, name
	}
	return img, nil
}

// setReplicas is `kustomize edit set replicas name=count...` with the
// arguments Argo CD builds from kustomize.replicas.
func setReplicas(k *types.Kustomization, reps v1alpha1.KustomizeReplicas) error {
	set := map[string]types.Replica{}
	for _, r := range reps {
		count, err := intCount(r.Count)
		if err != nil {
			return err
		}
		arg := fmt.Sprintf("%s=%d", r.Name, count)
		parts := strings.Split(arg, "=")
		if len(parts) != 2 {
			return fmt.Errorf("replica %q: expected <name>=<count>", arg)
		}
		n, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return fmt.Errorf("replica %q: expected <name>=<count>", arg)
		}
		set[parts[0]] = types.Replica{Name: parts[0], Count: n}
	}
	for _, old := range k.Replicas {
		if _, ok := set[old.Name]; !ok {
			set[old.Name] = old
		}
	}
	out := make([]types.Replica, 0, len(set))
	for _, r := range set {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	k.Replicas = out
	return nil
}

// intCount is upstream's KustomizeReplica.GetIntCount.
func intCount(c intstr.IntOrString) (int, error) {
	if c.Type == intstr.String {
		n, err := strconv.Atoi(c.StrVal)
		if err != nil {
			return 0, fmt.Errorf("expected integer value for count. Received: %s", c.StrVal)
		}
		return n, nil
	}
	return c.IntValue(), nil
}

// parseMetadataArgs turns Argo CD's "name:value" arguments back into a map
// the way `kustomize edit add label|annotation` parses them: the key ends
// at the first ':', a value wrapped in double quotes loses them, an empty
// key is an error.
func parseMetadataArgs(vals map[string]string, kind string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range sortedKeys(vals) {
		arg := name + ":" + vals[name]
		key, value, _ := strings.Cut(arg, ":")
		if key == "" {
			return nil, fmt.Errorf("invalid %s %q: the name is empty", kind, arg)
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		out[key] = value
	}
	return out, nil
}

// writeMetadata adds pairs to a commonLabels/commonAnnotations map; an
// existing key is an error unless force.
func writeMetadata(dst, pairs map[string]string, force bool, kind string) error {
	for _, key := range sortedKeys(pairs) {
		if _, ok := dst[key]; ok && !force {
			return fmt.Errorf("%s %s is already in the kustomization file (force it with forceCommon%ss)", kind, key, strings.ToUpper(kind[:1])+kind[1:])
		}
		dst[key] = pairs[key]
	}
	return nil
}

// addLabels is `kustomize edit add label [--force] [--without-selector
// [--include-templates]]`: commonLabels, or a `labels` entry without
// selectors (an existing key is overwritten in place with force, an error
// without).
func addLabels(k *types.Kustomization, pairs map[string]string, force, withoutSelector, includeTemplates bool) error {
	if !withoutSelector {
		if k.CommonLabels == nil {
			k.CommonLabels = map[string]string{}
		}
		return writeMetadata(k.CommonLabels, pairs, force, "label")
	}
	fresh := map[string]string{}
	for _, key := range sortedKeys(pairs) {
		present := false
		for i := range k.Labels {
			if _, ok := k.Labels[i].Pairs[key]; ok {
				if !force {
					return fmt.Errorf("label %s is already in the kustomization file (force it with forceCommonLabels)", key)
				}
				present = true
				k.Labels[i].Pairs[key] = pairs[key]
			}
		}
		if !present {
			fresh[key] = pairs[key]
		}
	}
	if len(fresh) > 0 {
		k.Labels = append(k.Labels, types.Label{Pairs: fresh, IncludeTemplates: includeTemplates})
	}
	return nil
}

// convertPatches turns kustomize.patches into kustomization patches. Argo
// CD appends them to the file as they are and kustomize then reads them
// strictly: an unknown option is an error there, and here.
func convertPatches(ps v1alpha1.KustomizePatches) ([]types.Patch, error) {
	b, err := json.Marshal(ps)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out []types.Patch
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// addComponents is upstream's applyComponents followed by `kustomize edit
// add component`: with ignoreMissing the components whose path does not
// exist are dropped first (upstream checks securejoin(appPath, c), which
// confines ".." to the app directory); then every path (relative to dir,
// a glob is expanded) must match, and those not yet listed are appended.
func addComponents(k *types.Kustomization, fsys fs.FS, dir string, comps []string, ignoreMissing bool) error {
	found := comps
	if ignoreMissing {
		found = nil
		for _, c := range comps {
			confined := path.Join(dir, strings.TrimPrefix(path.Clean("/"+c), "/"))
			if _, err := fs.Stat(fsys, confined); err != nil {
				continue
			}
			found = append(found, c)
		}
		if len(found) == 0 {
			return errors.New("ignoreMissingComponents left no component to add, and `kustomize edit add component` without a path fails upstream")
		}
	}
	var add []string
	for _, c := range found {
		matches, err := globComponent(fsys, dir, c)
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			if isRemoteFile(c) || isGitLike(c) {
				return fmt.Errorf("component %q: %w", c, ErrRemoteUnsupported)
			}
			return fmt.Errorf("component %q has no match in %s", c, dir)
		}
		add = append(add, matches...)
	}
	for _, c := range add {
		if c == "kustomization.yaml" || c == "kustomization.yml" || c == "Kustomization" || contains(k.Components, c) {
			continue
		}
		k.Components = append(k.Components, c)
	}
	return nil
}

// globComponent expands a component path the way kustomize's edit commands
// do (filepath.Glob from the kustomization directory, hidden files only
// when the pattern itself names one); a literal path comes back as given.
func globComponent(fsys fs.FS, dir, pattern string) ([]string, error) {
	if pattern == "" || strings.HasPrefix(pattern, "/") {
		return nil, nil
	}
	joined := path.Join(dir, pattern)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return nil, nil // outside the repository
	}
	if !strings.ContainsAny(pattern, `*?[\`) {
		if _, err := fs.Stat(fsys, joined); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	matches, err := fs.Glob(fsys, joined)
	if err != nil {
		return nil, fmt.Errorf("component %q: %w", pattern, err)
	}
	var out []string
	for _, m := range matches {
		if !strings.HasPrefix(path.Base(pattern), ".") && strings.HasPrefix(path.Base(m), ".") {
			continue
		}
		rel, err := filepath.Rel(dir, m)
		if err != nil {
			return nil, err
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

func marshalKustomization(k *types.Kustomization) ([]byte, error) {
	return yaml.Marshal(k)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
