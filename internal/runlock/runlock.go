// Package runlock keeps two processes from writing one run directory: the
// first takes an exclusive lock (flock(2) on DIR/.lock, which the kernel
// drops when the process dies, even by kill -9, so no lock is ever stale)
// and records who holds it; the second is told who.
package runlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// File is the lock file's name in the locked directory.
const File = ".lock"

// Holder is who holds a lock, as recorded in the lock file.
type Holder struct {
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Started string `json:"started"` // RFC 3339, UTC
	Command string `json:"command,omitempty"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s, started %s (%s)", h.PID, h.Host, h.Started, h.Command)
}

// ErrHeld is wrapped by Lock's error when another process holds the lock.
var ErrHeld = errors.New("run directory in use")

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// Acquire locks dir (which must exist) for this process, or fails at once
// with an error wrapping ErrHeld that names the holder.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, File)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var h Holder
			b := make([]byte, 4096)
			n, _ := f.ReadAt(b, 0)
			if json.Unmarshal(b[:n], &h) != nil {
				return nil, fmt.Errorf("%w: %s is locked by another process (%s unreadable)", ErrHeld, dir, path)
			}
			return nil, fmt.Errorf("%w: %s is locked by %s", ErrHeld, dir, h)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Format(time.RFC3339)}
	if len(os.Args) > 0 {
		h.Command = filepath.Base(os.Args[0])
		for _, a := range os.Args[1:min(len(os.Args), 4)] {
			h.Command += " " + a
		}
	}
	b, _ := json.Marshal(h)
	f.Truncate(0)
	f.WriteAt(append(b, '\n'), 0)
	return &Lock{f}, nil
}

// Unlock releases the lock (the lock file stays; it records the last
// holder).
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}
