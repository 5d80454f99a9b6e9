package retnet

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Limits on a safetensors file, checked before anything of its size is
// allocated. A Hugging Face shard or a RetLab checkpoint is far below both;
// the reference Rust reader caps the header at 100 MB.
const (
	// MaxSafetensorsHeader is the largest JSON header accepted, in bytes
	// (about 100,000 tensors).
	MaxSafetensorsHeader = 16 << 20
	// MaxSafetensorsFile is the largest file ReadSafetensors reads whole.
	MaxSafetensorsFile = 16 << 30
)

// CheckSafetensorsFile checks, from the file's stat and its header alone,
// that path is a safetensors file that can be read whole: a regular file (not
// a device such as /dev/zero, a FIFO or a directory) of at most maxBytes,
// with an 8-byte header length that fits the file and MaxSafetensorsHeader,
// a JSON header, and tensor data offsets that end exactly at the end of the
// file. It reads only the header and returns the file's size; every error
// names the file. ReadSafetensors calls it first; a reader of sharded
// checkpoints can call it on each shard before reading any.
func CheckSafetensorsFile(path string, maxBytes int64) (size int64, err error) {
	f, size, err := openSafetensors(path, maxBytes)
	if err != nil {
		return 0, err
	}
	f.Close()
	return size, nil
}

// openSafetensors is CheckSafetensorsFile returning the open file, at
// offset 0, for reading exactly size bytes.
func openSafetensors(path string, maxBytes int64) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("retnet: %w", err)
	}
	fail := func(format string, args ...any) (*os.File, int64, error) {
		f.Close()
		return nil, 0, fmt.Errorf("retnet: %s: "+format, append([]any{path}, args...)...)
	}
	st, err := f.Stat()
	if err != nil {
		return fail("%v", err)
	}
	if st.IsDir() && fileExists(filepath.Join(path, "config.json")) {
		return fail("a Hugging Face model directory, not a safetensors file: open it with load.Model (package github.com/retlab/retlab/retnet/load), which reads both")
	}
	if !st.Mode().IsRegular() {
		return fail("not a regular file (%s): a checkpoint must be a safetensors file", fileKind(st.Mode()))
	}
	size := st.Size()
	if size > maxBytes {
		return fail("file is %d bytes, more than the %d a checkpoint may have", size, maxBytes)
	}
	var lenBuf [8]byte
	if size < 8 {
		return fail("not a safetensors file: %d bytes, need an 8-byte header length", size)
	}
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return fail("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if err := checkHeaderLength(n, uint64(size-8)); err != nil {
		return fail("%v", err)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return fail("reading the %d-byte header: %v", n, err)
	}
	if err := checkHeaderOffsets(header, uint64(size-8)-n); err != nil {
		return fail("%v", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail("%v", err)
	}
	return f, size, nil
}

// checkHeaderLength checks the header length n against the bytes after the
// length field (rest) and MaxSafetensorsHeader.
func checkHeaderLength(n, rest uint64) error {
	if n > rest {
		return fmt.Errorf("safetensors header length %d exceeds the file (%d bytes after the length): truncated or not safetensors", n, rest)
	}
	if n > MaxSafetensorsHeader {
		return fmt.Errorf("safetensors header length %d exceeds the limit of %d bytes", n, MaxSafetensorsHeader)
	}
	return nil
}

// checkHeaderOffsets checks that the header is a JSON object whose tensors'
// data offsets are ordered and end exactly at dataLen, the size of the data
// section (the full layout check, contiguity and dtype sizes, is the
// parser's).
func checkHeaderOffsets(header []byte, dataLen uint64) error {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return fmt.Errorf("bad safetensors file: header is not a JSON object: %v", err)
	}
	var end uint64
	for name, raw := range entries {
		if name == "__metadata__" {
			continue
		}
		var t struct {
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || len(t.Offsets) != 2 {
			return fmt.Errorf("bad safetensors file: tensor %q: data_offsets is not two byte offsets", name)
		}
		if t.Offsets[0] > t.Offsets[1] || t.Offsets[1] > dataLen {
			return fmt.Errorf("bad safetensors file: tensor %q: data_offsets %v outside the %d-byte data section", name, t.Offsets, dataLen)
		}
		end = max(end, t.Offsets[1])
	}
	if end != dataLen {
		return fmt.Errorf("bad safetensors file: tensors end at byte %d of a %d-byte data section: truncated, padded or not safetensors", end, dataLen)
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// checkFinite returns an error naming the file, the tensor and the first
// element of data that is NaN or infinite: such a weight makes every output
// it touches NaN, so a model is never built from one.
func checkFinite(path, name string, data []float32) error {
	for i, v := range data {
		if v-v != 0 { // NaN or ±Inf
			return fmt.Errorf("retnet: %s: tensor %q element %d is %v: the checkpoint holds a non-finite weight", path, name, i, v)
		}
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
