// Package testutil holds helpers shared by RetLab's browser and notebook
// tests (viz, notebooks/nbtest): reading how much a screenshot shows,
// and starting local servers. It is imported by tests only.
package testutil

import (
	"fmt"
	"image"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Ink reads a PNG and returns its bounds, the fraction of its pixels that
// are not (near) white, and the number of distinct coarse colours: a drawn
// chart has axes, text and coloured marks; a blank or error page has
// (almost) none.
func Ink(path string) (bounds image.Rectangle, ink float64, colours int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return bounds, 0, 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return bounds, 0, 0, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	b := img.Bounds()
	n := 0
	seen := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xe800 || g < 0xe800 || bl < 0xe800 {
				n++
			}
			seen[[3]uint32{r >> 13, g >> 13, bl >> 13}] = true
		}
	}
	return b, float64(n) / float64(max(1, b.Dx()*b.Dy())), len(seen), nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url until it answers 200, or fails the test after d with
// the tail of the server's log at logPath.
func WaitHTTP(t testing.TB, url string, d time.Duration, logPath string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("server did not answer %s within %v; log tail:\n%s", url, d, Tail(string(log), 3000))
}

// Tail returns the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
