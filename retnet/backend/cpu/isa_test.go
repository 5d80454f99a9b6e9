package cpu

import (
	"os"
	"strings"
	"testing"
)

func TestParseISA(t *testing.T) {
	for _, i := range []ISA{Generic, AVX2, AVX512} {
		got, err := ParseISA(strings.ToUpper(i.String()))
		if err != nil || got != i {
			t.Errorf("ParseISA(%q) = %v, %v", i.String(), got, err)
		}
	}
	if _, err := ParseISA("sse3"); err == nil || !strings.Contains(err.Error(), "generic, avx2, avx512") {
		t.Errorf("ParseISA(sse3) error %v, want one naming the choices", err)
	}
}

// SetISA refuses what the machine cannot run and keeps the current path.
func TestSetISAUnsupported(t *testing.T) {
	before := CurrentISA()
	if _, err := SetISA(ISA(7)); err == nil || CurrentISA() != before {
		t.Fatalf("SetISA(7): err %v, path %v (was %v)", err, CurrentISA(), before)
	}
	if s := SupportedISAs(); s[0] != Generic || BestISA() != s[len(s)-1] {
		t.Errorf("SupportedISAs() = %v, BestISA() = %v", s, BestISA())
	}
}

// TestPrintBestISA prints the path this machine runs by default, for the
// benchmark scripts (RETLAB_PRINT_ISA=1 go test -run TestPrintBestISA -v).
func TestPrintBestISA(t *testing.T) {
	if os.Getenv("RETLAB_PRINT_ISA") == "" {
		t.Skip("set RETLAB_PRINT_ISA=1")
	}
	t.Logf("best ISA: %v (supported %v)", BestISA(), SupportedISAs())
}
