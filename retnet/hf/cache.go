package hf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The Hugging Face hub cache (what `huggingface-cli download` and
// transformers' from_pretrained fill):
//
//	$HF_HUB_CACHE (default $HF_HOME/hub, default ~/.cache/huggingface/hub)
//	  models--ORG--NAME/
//	    refs/main                 the commit hash of the revision "main"
//	    snapshots/<hash>/         config.json, model.safetensors, ... (links into blobs/)
//	    blobs/
//
// Resolve finds a model there by name; nothing is ever downloaded.

// CacheDir returns the hub cache directory from the environment.
func CacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HUGGINGFACE_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

var repoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

// IsRepoID reports whether s looks like a hub repository id (ORG/NAME,
// optionally @REVISION) rather than a local path.
func IsRepoID(s string) bool {
	id, _, _ := strings.Cut(s, "@")
	if !repoID.MatchString(id) || strings.Contains(id, "..") {
		return false
	}
	_, err := os.Stat(s)
	return err != nil // an existing relative path wins
}

// Resolve returns the model directory for a local path or a hub name
// "ORG/NAME" or "ORG/NAME@REVISION" (a branch or tag under refs/, or a
// commit hash) found in cache (CacheDir() when empty). A missing model gives
// an error with the command that downloads it.
func Resolve(model, cache string) (string, error) {
	if st, err := os.Stat(model); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("hf: %s is a file, want a model directory (config.json + safetensors)", model)
		}
		return model, nil
	}
	if !IsRepoID(model) {
		return "", fmt.Errorf("hf: %s: no such directory, and not a hub name ORG/NAME", model)
	}
	if cache == "" {
		cache = CacheDir()
	}
	id, rev, _ := strings.Cut(model, "@")
	if rev == "" {
		rev = "main"
	}
	repo := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"))
	download := DownloadCommand(id, rev)
	if _, err := os.Stat(repo); err != nil {
		return "", fmt.Errorf("hf: model %s is not in the Hugging Face cache (%s); RetLab never downloads. Fetch it with:\n  %s", id, cache, download)
	}
	hash := rev
	if b, err := os.ReadFile(filepath.Join(repo, "refs", filepath.FromSlash(rev))); err == nil {
		hash = strings.TrimSpace(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("hf: %w", err)
	}
	snap := filepath.Join(repo, "snapshots", hash)
	if _, err := os.Stat(snap); err != nil {
		have := snapshots(repo)
		return "", fmt.Errorf("hf: model %s: revision %q has no snapshot in %s (have %s). Fetch it with:\n  %s", id, rev, repo, have, download)
	}
	if _, err := os.Stat(filepath.Join(snap, ConfigFile)); err != nil {
		return "", fmt.Errorf("hf: model %s: snapshot %s has no %s: the download is incomplete. Fetch it with:\n  %s", id, snap, ConfigFile, download)
	}
	return snap, nil
}

func snapshots(repo string) string {
	es, _ := os.ReadDir(filepath.Join(repo, "snapshots"))
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// DownloadCommand is the shell command that puts model id at revision rev
// into the cache (the files RetLab reads; nothing else).
func DownloadCommand(id, rev string) string {
	cmd := "huggingface-cli download " + id
	if rev != "" && rev != "main" {
		cmd += " --revision " + rev
	}
	return cmd + " config.json tokenizer.json '*.safetensors' model.safetensors.index.json"
}

// CachedModel is one model found in the cache.
type CachedModel struct {
	ID       string `json:"id"`       // ORG/NAME
	Revision string `json:"revision"` // commit hash of refs/main (or the only snapshot)
	Dir      string `json:"dir"`      // the snapshot directory
}

// ListCache lists the models in cache (CacheDir() when empty) that have a
// snapshot with a config.json, sorted by id.
func ListCache(cache string) []CachedModel {
	if cache == "" {
		cache = CacheDir()
	}
	es, _ := os.ReadDir(cache)
	var out []CachedModel
	for _, e := range es {
		name, ok := strings.CutPrefix(e.Name(), "models--")
		if !ok || !e.IsDir() {
			continue
		}
		id := strings.Replace(name, "--", "/", 1)
		dir, err := Resolve(id, cache)
		if err != nil {
			continue
		}
		out = append(out, CachedModel{ID: id, Revision: filepath.Base(dir), Dir: dir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
