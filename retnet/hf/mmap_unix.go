//go:build unix

package hf

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a file read-only into memory. Pages are read from disk on
// first touch and shared with the page cache, so a mapped checkpoint costs
// no second copy: the weights are used where they lie. close unmaps.
func mapFile(f *os.File, size int64) (data []byte, close func() error, err error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	if size != int64(int(size)) {
		return nil, nil, fmt.Errorf("file of %d bytes cannot be mapped on this platform", size)
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
