//go:build !linux && !darwin

package outdir

func exchange(string, string) error { return errExchangeUnsupported }
