// Package atomicfile writes files so that a crash or a second reader never
// sees half of one: checkpoints, training logs.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write writes the file at path through write into a temporary file in the
// same directory (TempPrefix(path) plus a random suffix), then fsyncs it,
// renames it over path and fsyncs the directory, so a reader sees the old
// file or the whole new one, never a part. The file is created 0644 less
// the process umask, as os.OpenFile makes log files.
func Write(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// TempPrefix is the name prefix of Write's temporary files for path:
// ".NAME.tmp" in path's directory.
func TempPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

// createTemp creates a new temporary file for path with mode 0644 (the
// umask applies; os.CreateTemp would make it 0600).
func createTemp(path string) (*os.File, error) {
	for i := 0; ; i++ {
		var b [8]byte
		rand.Read(b[:])
		f, err := os.OpenFile(TempPrefix(path)+hex.EncodeToString(b[:]), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		return f, err
	}
}

// RemoveOrphans deletes the temporary files a killed Write of path left
// behind and returns their names. Call it only while no other process can
// be writing path (under the lock of its directory).
func RemoveOrphans(path string) ([]string, error) {
	dir, prefix := filepath.Dir(path), filepath.Base(TempPrefix(path))
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			p := filepath.Join(dir, e.Name())
			if err := os.Remove(p); err != nil {
				return removed, err
			}
			removed = append(removed, p)
		}
	}
	return removed, nil
}
