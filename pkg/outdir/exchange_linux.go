package outdir

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders a and b in one renameat2(2) RENAME_EXCHANGE.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%w: %v", errExchangeUnsupported, err)
	}
	if err != nil {
		return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
	}
	return nil
}
