package viz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/retlab/retlab/retnet"
)

// readRecords decodes a results file: a JSON array of records, one JSON
// object, or JSON lines (one object a line, blank lines skipped).
func readRecords[T any](path string) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeRecords[T](path, b)
}

func decodeRecords[T any](name string, b []byte) ([]T, error) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		var out []T
		if err := json.Unmarshal(t, &out); err != nil {
			return nil, fmt.Errorf("viz: %s: %w", name, err)
		}
		return out, nil
	}
	var out []T
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(t)))
	for {
		var r T
		err := dec.Decode(&r)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("viz: %s: record %d: %w", name, len(out)+1, err)
		}
		out = append(out, r)
	}
}

// ReadInferenceBench reads `retlab bench inference --json` output.
func ReadInferenceBench(path string) ([]retnet.InferenceBench, error) {
	return readRecords[retnet.InferenceBench](path)
}

// ReadTrainingLog reads a training log (DIR/log.jsonl).
func ReadTrainingLog(path string) ([]retnet.LogEntry, error) {
	return readRecords[retnet.LogEntry](path)
}

// ReadPerplexity reads perplexity points (one per trained model).
func ReadPerplexity(path string) ([]retnet.PerplexityPoint, error) {
	return readRecords[retnet.PerplexityPoint](path)
}

// ReadFormAgreement reads per-layer form agreement records.
func ReadFormAgreement(path string) ([]retnet.FormAgreement, error) {
	return readRecords[retnet.FormAgreement](path)
}

// ReadRetentionScores reads per-layer, per-head retention score matrices.
func ReadRetentionScores(path string) ([]retnet.RetentionScores, error) {
	return readRecords[retnet.RetentionScores](path)
}
