// Package atomicfile writes files so that a crash or a second reader never
// sees half of one: checkpoints, training logs.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes the file at path through write into a temporary file in the
// same directory, then fsyncs it, renames it over path and fsyncs the
// directory, so a reader sees the old file or the whole new one, never a
// part. The file is made 0644.
func Write(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
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
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600; checkpoints are shared files
		return err
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
