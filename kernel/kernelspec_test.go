package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/viz"
)

// Issue 16 item 1: a kernel name is one directory entry; install never
// writes outside the prefix's kernels directory and uninstall deletes only
// a single kernelspec RetLab wrote.
func TestKernelspecNameCannotEscape(t *testing.T) {
	prefix := t.TempDir()
	outside := filepath.Join(filepath.Dir(prefix), "escaped-"+filepath.Base(prefix))
	defer os.RemoveAll(outside)
	kernels := filepath.Join(prefix, "share", "jupyter", "kernels")
	js := filepath.Join(t.TempDir(), "echarts.min.js")
	os.WriteFile(js, []byte("/* echarts */"), 0o644)
	opts := func(name string) InstallOptions {
		return InstallOptions{Scope: ScopePrefix, Prefix: prefix, Name: name, Executable: "/bin/true", EChartsJS: js}
	}
	if _, _, err := Install(opts("retlab")); err != nil {
		t.Fatal(err)
	}
	// A directory holding someone else's kernel.json, next to ours.
	other := filepath.Join(kernels, "python3")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "kernel.json"), []byte(`{"argv":["python3"],"display_name":"Python 3","language":"python"}`), 0o644)

	for _, name := range []string{"../../../../escaped-" + filepath.Base(prefix), "../x", "a/b", ".", "..", "", "x\x00y", strings.Repeat("k", 256)} {
		if name == "" {
			continue // "" means the default name
		}
		if _, _, err := Install(opts(name)); err == nil || !strings.Contains(err.Error(), "invalid kernel name") {
			t.Errorf("install --name %q: err %v, want an invalid kernel name error", name, err)
		}
		if _, err := Uninstall(opts(name)); err == nil || !strings.Contains(err.Error(), "invalid kernel name") {
			t.Errorf("uninstall --name %q: err %v, want an invalid kernel name error", name, err)
		}
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Errorf("install wrote outside the prefix: %s", outside)
	}
	if _, err := Uninstall(opts("python3")); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("uninstall of a foreign kernelspec: err %v", err)
	}
	if _, _, err := Install(opts("python3")); err == nil {
		t.Error("install over a foreign kernelspec succeeded")
	}
	if _, err := os.Stat(filepath.Join(other, "kernel.json")); err != nil {
		t.Fatalf("the foreign kernelspec was touched: %v", err)
	}
	// A file the user added keeps the directory (and the file).
	mine := filepath.Join(kernels, "retlab")
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Uninstall(opts("retlab")); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("uninstall with an extra file: err %v", err)
	}
	if _, err := os.Stat(filepath.Join(mine, "notes.txt")); err != nil {
		t.Error("uninstall deleted a file RetLab did not write")
	}
	os.Remove(filepath.Join(mine, "notes.txt"))
	if _, _, err := Install(opts("retlab")); err != nil {
		t.Fatal(err)
	}
	if _, err := Uninstall(opts("retlab")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Error("uninstall left the kernelspec directory")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("uninstall removed a sibling kernelspec")
	}
}

// Issue 16 item 11: kernel.json tells the kernel where its kernelspec's
// chart asset is, so a --prefix install renders charts without
// RETLAB_ECHARTS set by hand.
func TestKernelspecPointsTheKernelAtItsECharts(t *testing.T) {
	prefix := t.TempDir()
	js := filepath.Join(t.TempDir(), "echarts.min.js")
	os.WriteFile(js, []byte("/* echarts */"), 0o644)
	dir, _, err := Install(InstallOptions{Scope: ScopePrefix, Prefix: prefix, Name: "retlab-p", Executable: "/bin/true", EChartsJS: js})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, EChartsName)
	if got := spec.Env[viz.EnvECharts]; got != want {
		t.Fatalf("kernel.json env %s = %q, want %q", viz.EnvECharts, got, want)
	}
	t.Setenv(viz.EnvECharts, spec.Env[viz.EnvECharts])
	if p, err := viz.EChartsPath(); err != nil || p != want {
		t.Fatalf("the kernel's lookup with the kernelspec's env: %q, %v; want %q", p, err, want)
	}
}
