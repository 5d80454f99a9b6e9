package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type refCase struct {
	Text        string `json:"text"`
	IDs         []int  `json:"ids"`
	IDsSpecial  []int  `json:"ids_special"`
	Decoded     string `json:"decoded"`
	DecodedSkip string `json:"decoded_skip"`
}

func readCases(t *testing.T, name string) []refCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".cases.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []refCase
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c refCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAgreesWithTokenizers checks encode (with and without the
// post-processor's tokens) and decode token for token against the Hugging
// Face tokenizers library on every reference string (make_tokenizer_reference.py).
func TestAgreesWithTokenizers(t *testing.T) {
	for _, name := range []string{"llama", "metaspace", "bytelevel", "whitespace", "wordpunct", "wordpiece", "unigram", "unigram-bytes"} {
		t.Run(name, func(t *testing.T) {
			tok, err := Load(filepath.Join("testdata", name+".tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			cases := readCases(t, name)
			if len(cases) < 10000 {
				t.Fatalf("%d reference strings, want >= 10000", len(cases))
			}
			bad := 0
			for i, c := range cases {
				var errs []string
				if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
					errs = append(errs, fmt.Sprintf("Encode = %v, tokenizers %v", got, c.IDs))
				}
				if got := tok.EncodeSpecial(c.Text); !slices.Equal(got, c.IDsSpecial) {
					errs = append(errs, fmt.Sprintf("EncodeSpecial = %v, tokenizers %v", got, c.IDsSpecial))
				}
				if got, err := tok.Decode(c.IDs, false); err != nil || got != c.Decoded {
					errs = append(errs, fmt.Sprintf("Decode = %q (%v), tokenizers %q", got, err, c.Decoded))
				}
				if got, err := tok.Decode(c.IDsSpecial, true); err != nil || got != c.DecodedSkip {
					errs = append(errs, fmt.Sprintf("Decode(skip special) = %q (%v), tokenizers %q", got, err, c.DecodedSkip))
				}
				if len(errs) > 0 {
					bad++
					if bad <= 5 {
						t.Errorf("case %d %q:\n  %s", i, c.Text, strings.Join(errs, "\n  "))
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d strings differ from tokenizers", bad, len(cases))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tok, err := Load(filepath.Join("testdata", "llama.tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Decode([]int{5, 99999}, false); err == nil || !strings.Contains(err.Error(), "id 99999 at position 1") {
		t.Errorf("Decode of an out-of-range id: %v", err)
	}
	for _, c := range []struct{ json, want string }{
		{`{"model":{"type":"Unigram"}}`, `Unigram unk_id missing`},
		{`{"model":{"type":"WordLevel"}}`, `model: type "WordLevel"`},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Precompiled"}}`, `normalizer: type "Precompiled" is not implemented`},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a","b"]]}}`, `merge 0 ("a" "b")`},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Punctuation","behavior":"MergedWithNext"}}`, `Punctuation behavior "MergedWithNext" is not implemented`},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\s+"}}}`, `pre_tokenizer: type "Split" is not implemented`},
		{`not json`, "not valid JSON"},
	} {
		if _, err := Parse([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", c.json, err, c.want)
		}
	}
	if _, err := Load("testdata/absent.json"); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func ExampleTokenizer_Encode() {
	tok, err := Load("testdata/llama.tokenizer.json")
	if err != nil {
		panic(err)
	}
	ids := tok.EncodeSpecial("Retention 🙂")
	text, _ := tok.Decode(ids, true)
	fmt.Println(text)
	// Output: Retention 🙂
}
