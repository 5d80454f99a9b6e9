package dockertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 16 item 12: retlab-lab installed on a machine listens on 127.0.0.1
// and says so, and never adds --allow-root; the image's (install.sh
// --image) listens on the container's interfaces. A stand-in jupyter prints
// the command line it was given.
func TestLauncherListensLocallyOutsideTheImage(t *testing.T) {
	for _, tc := range []struct {
		image          bool
		env            []string
		ip, says, root string
	}{
		{false, nil, "--ip=127.0.0.1", "listening on 127.0.0.1:8888 (this machine only; set RETLAB_IP=0.0.0.0", ""},
		{false, []string{"RETLAB_IP=0.0.0.0"}, "--ip=0.0.0.0", "listening on 0.0.0.0:8888 (from RETLAB_IP)", ""},
		{true, nil, "--ip=0.0.0.0", "listening on 0.0.0.0:8888 (the image's default", "--allow-root"},
	} {
		prefix := t.TempDir()
		args := []string{"install.sh", "--prefix", prefix, "--steps", "launcher"}
		if tc.image {
			args = append(args, "--image")
		}
		if out, err := exec.Command("bash", args...).CombinedOutput(); err != nil {
			t.Fatalf("install.sh %v: %v\n%s", args, err, out)
		}
		fake := filepath.Join(prefix, "fakebin")
		os.MkdirAll(fake, 0o755)
		os.WriteFile(filepath.Join(fake, "jupyter"), []byte("#!/bin/sh\necho \"jupyter $*\"\n"), 0o755)
		os.WriteFile(filepath.Join(prefix, "env.sh"), []byte("export PATH="+fake+":$PATH\n"), 0o644)
		cmd := exec.Command(filepath.Join(prefix, "bin", "retlab-lab"))
		cmd.Env = append(os.Environ(), tc.env...)
		cmd.Env = append(cmd.Env, "RETLAB_PORT=8888")
		if len(tc.env) == 0 {
			cmd.Env = append(cmd.Env, "RETLAB_IP=")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("retlab-lab: %v\n%s", err, out)
		}
		s := string(out)
		if !strings.Contains(s, tc.ip+" ") || !strings.Contains(s, tc.says) {
			t.Errorf("image=%v %v: launcher ran %q, want %s and the note %q", tc.image, tc.env, s, tc.ip, tc.says)
		}
		if root := os.Geteuid() == 0; root && (tc.root == "") == strings.Contains(s, "--allow-root") {
			t.Errorf("image=%v as root: %q (--allow-root wanted: %v)", tc.image, s, tc.root != "")
		}
	}
}
