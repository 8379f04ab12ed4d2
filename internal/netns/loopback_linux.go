package netns

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"
)

// LoopbackUp brings the loopback interface lo up in this process's network
// namespace (what `ip link set lo up` does), with the SIOCGIFFLAGS and
// SIOCSIFFLAGS ioctls, so that iproute2 is not needed. It needs
// CAP_NET_ADMIN in the namespace: root, or the owner of the user namespace
// unshare -rn made.
func LoopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	// struct ifreq: 16 bytes of name, then a union whose first member is
	// short ifr_flags; 40 bytes on 64-bit Linux.
	var ifr [40]byte
	copy(ifr[:syscall.IFNAMSIZ-1], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, &ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS lo: %w", err)
	}
	flags := binary.NativeEndian.Uint16(ifr[syscall.IFNAMSIZ:])
	if flags&syscall.IFF_UP != 0 {
		return nil
	}
	binary.NativeEndian.PutUint16(ifr[syscall.IFNAMSIZ:], flags|syscall.IFF_UP)
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, &ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS lo: %w", err)
	}
	return nil
}

func ioctl(fd int, req uintptr, ifr *[40]byte) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(ifr))); errno != 0 {
		return errno
	}
	return nil
}
