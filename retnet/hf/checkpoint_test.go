package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies a golden model directory into a temp dir to damage it.
func copyDir(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(testdata, name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestCorruptDownloads(t *testing.T) {
	t.Run("missing shard", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny-sharded")
		shard := filepath.Join(d, "model-00003-of-00010.safetensors")
		os.Remove(shard)
		_, err := Load(d)
		wantErr(t, err, shard, "missing shard", "incomplete")
	})
	t.Run("truncated shard", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny-sharded")
		shard := filepath.Join(d, "model-00002-of-00010.safetensors")
		b, _ := os.ReadFile(shard)
		os.WriteFile(shard, b[:len(b)-100], 0o644)
		_, err := Load(d)
		wantErr(t, err, shard, "truncated")
	})
	t.Run("truncated header", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny")
		f := filepath.Join(d, "model.safetensors")
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:50], 0o644)
		_, err := Load(d)
		wantErr(t, err, f, "truncated")
	})
	t.Run("index names an absent tensor", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny-sharded")
		ix := filepath.Join(d, IndexFile)
		var m map[string]any
		b, _ := os.ReadFile(ix)
		json.Unmarshal(b, &m)
		m["weight_map"].(map[string]any)["model.layers.9.attn.q_proj.weight"] = "model-00001-of-00010.safetensors"
		b, _ = json.Marshal(m)
		os.WriteFile(ix, b, 0o644)
		_, err := Load(d)
		wantErr(t, err, "model-00001-of-00010.safetensors", `"model.layers.9.attn.q_proj.weight"`, "does not hold it")
	})
	t.Run("no weights", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny")
		os.Remove(filepath.Join(d, "model.safetensors"))
		_, err := Load(d)
		wantErr(t, err, d, "neither model.safetensors nor model.safetensors.index.json")
	})
	t.Run("no config", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny")
		os.Remove(filepath.Join(d, "config.json"))
		_, err := Load(d)
		wantErr(t, err, d, "no config.json")
	})
	t.Run("config disagrees with the tensors", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny")
		cfg := filepath.Join(d, ConfigFile)
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, []byte(strings.Replace(string(b), `"num_hidden_layers": 2`, `"num_hidden_layers": 3`, 1)), 0o644)
		_, err := Load(d)
		wantErr(t, err, `"model.layers.2.attn_norm.weight"`, "config.json implies")
		os.WriteFile(cfg, []byte(strings.Replace(string(b), `"hidden_size": 32`, `"hidden_size": 48`, 1)), 0o644)
		_, err = Load(d)
		wantErr(t, err, "model.safetensors", `"model.embeddings.weight" has shape [1200 32], config.json implies [1200 48]`)
	})
	t.Run("unsupported config field", func(t *testing.T) {
		d := copyDir(t, "fla-retnet-tiny")
		cfg := filepath.Join(d, ConfigFile)
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, []byte(strings.Replace(string(b), `"use_short_conv": false`, `"use_short_conv": true`, 1)), 0o644)
		_, err := Load(d)
		wantErr(t, err, cfg, "use_short_conv = true is not implemented")
	})
}

// TestCacheLookup builds a fake Hugging Face cache tree around a golden
// model and finds it by name.
func TestCacheLookup(t *testing.T) {
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--fla-hub--retnet-tiny")
	rev := "0123456789abcdef0123456789abcdef01234567"
	snap := filepath.Join(repo, "snapshots", rev)
	os.MkdirAll(filepath.Join(repo, "refs"), 0o755)
	os.MkdirAll(filepath.Dir(snap), 0o755)
	src, _ := filepath.Abs(filepath.Join(testdata, "fla-retnet-tiny"))
	if err := os.Symlink(src, snap); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(rev+"\n"), 0o644)

	dir, err := Resolve("fla-hub/retnet-tiny", cache)
	if err != nil || dir != snap {
		t.Fatalf("Resolve = %q, %v; want %q", dir, err, snap)
	}
	if dir, err := Resolve("fla-hub/retnet-tiny@"+rev, cache); err != nil || dir != snap {
		t.Errorf("Resolve at a commit = %q, %v", dir, err)
	}
	t.Setenv("HF_HUB_CACHE", cache)
	m, err := Load("fla-hub/retnet-tiny")
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := ListCache(""); len(got) != 1 || got[0].ID != "fla-hub/retnet-tiny" || got[0].Revision != rev {
		t.Errorf("ListCache = %+v", got)
	}
	_, err = Resolve("fla-hub/retnet-1.3B-100B", cache)
	wantErr(t, err, "fla-hub/retnet-1.3B-100B is not in the Hugging Face cache", cache, "huggingface-cli download fla-hub/retnet-1.3B-100B")
	_, err = Resolve("fla-hub/retnet-tiny@v2", cache)
	wantErr(t, err, `revision "v2" has no snapshot`, rev, "--revision v2")
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "/x/hf")
	if got := CacheDir(); got != "/x/hf/hub" {
		t.Errorf("CacheDir with HF_HOME = %q", got)
	}
}

// TestWriteRandom writes a small random model with the 1.3B RetNet's
// config fields and reads it back.
func TestWriteRandom(t *testing.T) {
	for _, shape := range []string{"fla-retnet-1.3B", "fla-transformer-1.3B"} {
		cfg := map[string]any{}
		for k, v := range RandomShapes[shape] {
			cfg[k] = v
		}
		cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"], cfg["num_heads"] = 64, 2, 100, 4
		d := filepath.Join(t.TempDir(), shape)
		if err := WriteRandom(d, cfg, 1); err != nil {
			t.Fatal(err)
		}
		m, err := Load(d)
		if err != nil {
			t.Fatal(err)
		}
		if m.DType() != "BF16" || m.Config.ModelType != cfg["model_type"] {
			t.Errorf("%s: dtype %s type %s", shape, m.DType(), m.Config.ModelType)
		}
		st, _ := os.Stat(filepath.Join(d, WeightsFile))
		if got := m.WeightBytes(); got > st.Size() || got < st.Size()-4096 {
			t.Errorf("%s: weights %d bytes, file %d", shape, got, st.Size())
		}
		if _, err := m.Forward([]int32{1, 2, 3}, 1, 3, "chunkwise", 0, nil); err != nil {
			t.Error(err)
		}
		m.Close()
	}
}
