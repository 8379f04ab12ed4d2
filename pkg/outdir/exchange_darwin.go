package outdir

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders a and b in one renamex_np(2) RENAME_SWAP.
func exchange(a, b string) error {
	err := unix.RenamexNp(a, b, unix.RENAME_SWAP)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("%w: %v", errExchangeUnsupported, err)
	}
	if err != nil {
		return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
	}
	return nil
}
