package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

func init() {
	register("info", command{"compute backend, device and memory (JSON with --json)", runInfo})
	// A binary built with -tags cuda uses the GPU unless told otherwise
	// (RETLAB_BACKEND=cpu, or backend.Use).
	if cuda.RegistryName != "" {
		backend.SetDefault(cuda.RegistryName)
	}
}

// infoRecord is what `retlab info --json` prints.
type infoRecord struct {
	backend.Info
	Registered   []string `json:"registered"`    // backends this binary can open
	CUDACompiled bool     `json:"cuda_compiled"` // built with -tags cuda
	GoVersion    string   `json:"go_version"`
	GOOS         string   `json:"goos"`
	GOARCH       string   `json:"goarch"`
	NumCPU       int      `json:"num_cpu"`
	GOMAXPROCS   int      `json:"gomaxprocs"`
}

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", stderr)
	asJSON := fs.Bool("json", false, "print a JSON object")
	name := fs.String("backend", "", "backend to describe (default: the one in use: RETLAB_BACKEND, else cuda in a -tags cuda binary, else cpu)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var b backend.Backend
	if *name == "" {
		b = backend.Current()
	} else {
		var err error
		if b, err = backend.Open(*name); err != nil {
			return err
		}
	}
	rec := infoRecord{Info: b.Info(), Registered: backend.Names(), CUDACompiled: cuda.RegistryName == "cuda",
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	rec.Backend = b.Name()
	if rec.Device == "" && b.Name() == "cpu" {
		rec.Device = fmt.Sprintf("host CPU, %d cores", runtime.NumCPU())
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	fmt.Fprintf(stdout, "backend     %s\n", rec.Backend)
	fmt.Fprintf(stdout, "device      %s\n", rec.Device)
	if rec.MemTotal > 0 {
		fmt.Fprintf(stdout, "memory      %.1f GiB total, %.1f GiB free\n", float64(rec.MemTotal)/(1<<30), float64(rec.MemFree)/(1<<30))
	}
	fmt.Fprintf(stdout, "registered  %s\n", strings.Join(rec.Registered, ", "))
	gpu := "not compiled in (build with -tags cuda: go doc ./retnet/backend/cuda)"
	if rec.CUDACompiled {
		gpu = "compiled in (-tags cuda)"
	}
	fmt.Fprintf(stdout, "cuda        %s\n", gpu)
	fmt.Fprintf(stdout, "go          %s %s/%s, %d CPUs, GOMAXPROCS %d\n", rec.GoVersion, rec.GOOS, rec.GOARCH, rec.NumCPU, rec.GOMAXPROCS)
	keys := make([]string, 0, len(rec.Details))
	for k := range rec.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-20s %s\n", k, rec.Details[k])
	}
	return nil
}
