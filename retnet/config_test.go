package retnet

import (
	"math"
	"strings"
	"testing"
)

// The spec's preset table lists non-embedding parameters in billions, rounded
// as printed (0.019B, 0.20B, 1.22B, 2.52B, 6.51B, 12.6B, 52.1B).
func TestPresetParamCountsMatchSpecTable(t *testing.T) {
	want := map[string]struct {
		billions float64
		digits   float64 // rounding step of the printed number
	}{
		"base": {0.019, 0.001}, "medium": {0.20, 0.01}, "xl": {1.22, 0.01}, "3b": {2.52, 0.01},
		"7b": {6.51, 0.01}, "13b": {12.6, 0.1}, "65b": {52.1, 0.1},
	}
	for _, name := range PresetNames() {
		c, err := Preset(name, DefaultVocab)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		got := float64(c.Params().NonEmbedding) / 1e9
		if math.Abs(got-w.billions) > w.digits/2 {
			t.Errorf("%s: %.4fB non-embedding params, spec says %gB", name, got, w.billions)
		}
		if c.KeyHeadDim() != 256 {
			t.Errorf("%s: key head dim %d, presets use 256", name, c.KeyHeadDim())
		}
	}
	if len(want) != len(PresetNames()) {
		t.Errorf("presets %v, spec has %d", PresetNames(), len(want))
	}
}

// In float32, gamma = 1 - 2^(-5-h) rounds to exactly 1 from head 20 on: the
// 65b preset (32 heads) has 12 heads without decay, and says so.
func TestWarnsWhenDecayRoundsToOne(t *testing.T) {
	c, _ := Preset("65b", DefaultVocab)
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, "12 of 32 heads (heads 20..31)") {
		t.Errorf("65b warnings = %q, want the 12 non-decaying heads 20..31 named", w)
	}
	lg := LogGammas(ScheduleTorchscale, 32)
	for h, v := range lg {
		if (v == 0) != (h >= 20) {
			t.Errorf("head %d: log gamma %g", h, v)
		}
	}
	if c, _ := Preset("13b", DefaultVocab); len(c.Warnings()) != 0 {
		t.Errorf("13b (20 heads) should not warn: %v", c.Warnings())
	}
}

func TestValidateNamesTheField(t *testing.T) {
	// torchscale's RetNetConfig() defaults: 1280 value dim with 3 heads crash there.
	c := Config{Vocab: 10, Dim: 768, ValueDim: 1280, FFNDim: 1280, Layers: 1, Heads: 3}.WithDefaults()
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "value_embed_dim 1280 is not divisible by retention_heads 3") {
		t.Errorf("err = %v", err)
	}
}
