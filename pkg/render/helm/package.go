package helm

import (
	"bytes"
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// Package returns the packaged chart (the .tgz as its repository serves it)
// of ref, through the same mirrors, fetcher and disk cache as Load, with the
// chart's metadata (its name and the version a constraint resolved to).
// `hubctl charts pull` copies these packages into a Helm repository folder.
func (c *Cache) Package(ctx context.Context, ref ChartRef) ([]byte, *chart.Metadata, error) {
	if ref.Chart == "" {
		return nil, nil, fmt.Errorf("package %s: no chart name", ref)
	}
	src, err := c.resolve(ref.RepoURL)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: %w", ref, err)
	}
	data, err := c.fetch(ctx, ref, src)
	if err != nil {
		return nil, nil, err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: invalid chart package: %w", ref, err)
	}
	if ch.Metadata == nil || ch.Metadata.Name != ref.Chart {
		return nil, nil, fmt.Errorf("package %s: the package is chart %q", ref, ch.Name())
	}
	return data, ch.Metadata, nil
}
