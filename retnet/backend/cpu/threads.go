package cpu

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// threadSetting is the SetThreads value; 0 means runtime.GOMAXPROCS(0).
var threadSetting atomic.Int64

func init() {
	if v, err := strconv.Atoi(os.Getenv("RETLAB_THREADS")); err == nil && v > 0 {
		threadSetting.Store(int64(v))
	}
}

// SetThreads sets how many goroutines one large Sgemm may use; n <= 0 restores
// the default, runtime.GOMAXPROCS(0) read at each call. It returns the
// previous setting (0 for the default), so
//
//	defer cpu.SetThreads(cpu.SetThreads(1))
//
// runs a block single-threaded. The environment variable RETLAB_THREADS sets
// the starting value. Results do not depend on the thread count: each element
// of C is computed by one goroutine in the same order.
func SetThreads(n int) int {
	if n < 0 {
		n = 0
	}
	return int(threadSetting.Swap(int64(n)))
}

// Threads returns how many goroutines a large Sgemm uses.
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// minFlopsPerThread is the work (2*m*n*k) below which adding a goroutine costs
// more than it saves: waking a parked worker takes a few microseconds.
const minFlopsPerThread = 2 * 64 * 64 * 64

// splitGrid chooses how to cut C (m x n) into tm x tn tiles for at most t
// goroutines, and the tile sizes bm x bn (multiples of the register tile).
// It minimises the largest tile's cost: its multiply-adds plus the redundant
// packing each tile does of its own rows of A and columns of B.
func splitGrid(m, n, k, t int) (tm, tn, bm, bn int) {
	if work := 2 * float64(m) * float64(n) * float64(k) / minFlopsPerThread; work < float64(t) {
		t = max(1, int(work))
	}
	tm, tn, bm, bn = 1, 1, m, n
	if t == 1 {
		return
	}
	best := -1
	for ti := 1; ti <= t; ti++ {
		if t%ti != 0 {
			continue
		}
		tj := t / ti
		cm := roundUp(ceilDiv(m, ti), mr)
		cn := roundUp(ceilDiv(n, tj), nr)
		cost := cm*cn + 16*(cm+cn)
		if best < 0 || cost < best {
			best, tm, tn, bm, bn = cost, ceilDiv(m, cm), ceilDiv(n, cn), cm, cn
		}
	}
	return
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// parallel runs the blocked product on up to t goroutines: the caller
// computes the first tile of C, pool workers the others.
func (g *gemm) parallel(t int) {
	tm, tn, bm, bn := splitGrid(g.m, g.n, g.k, t)
	if tm*tn == 1 {
		ws := getWorkspace()
		g.tile(ws, 0, g.m, 0, g.n)
		putWorkspace(ws)
		return
	}
	call := g.startCall(tm*tn - 1)
	for ti := 0; ti < tm; ti++ {
		for tj := 0; tj < tn; tj++ {
			if ti == 0 && tj == 0 {
				continue
			}
			jobs <- job{call: call, i0: ti * bm, i1: min(g.m, (ti+1)*bm), j0: tj * bn, j1: min(g.n, (tj+1)*bn)}
		}
	}
	ws := getWorkspace()
	g.tile(ws, 0, min(g.m, bm), 0, min(g.n, bn))
	putWorkspace(ws)
	finishCall(call)
}

// minGemvFlopsPerThread is the same for matrix-vector products, which are
// bound by reading the matrix: 2*64K flops stream 256 KiB (~10 us).
const minGemvFlopsPerThread = 2 * 64 * 1024

// parallelGemv runs a matrix-vector product (see gemvKind) on up to t
// goroutines, each taking a range of the outputs (a multiple of nr long).
func (g *gemm) parallelGemv(kind, t int) {
	total := g.n
	if kind == gemvColDot {
		total = g.m
	}
	if work := 2 * float64(g.m) * float64(g.n) * float64(g.k) / minGemvFlopsPerThread; work < float64(t) {
		t = max(1, int(work))
	}
	size := roundUp(ceilDiv(total, t), nr)
	parts := ceilDiv(total, size)
	if parts <= 1 {
		g.gemvRange(kind, 0, total)
		return
	}
	call := g.startCall(parts - 1)
	for i := 1; i < parts; i++ {
		jobs <- job{call: call, kind: kind, i0: i * size, i1: min(total, (i+1)*size)}
	}
	g.gemvRange(kind, 0, size)
	finishCall(call)
}

// startCall takes a pooled parCall for a copy of g awaiting n jobs, making
// sure n workers exist.
func (g *gemm) startCall(n int) *parCall {
	call := callPool.Get().(*parCall)
	call.g = *g
	call.wg.Add(n)
	call.remaining.Store(int32(n))
	startWorkers(n)
	return call
}

// finishCall waits for a call's jobs and returns the parCall to its pool.
// While jobs are left it runs queued ones itself (a worker whose thread the
// OS has not scheduled yet would otherwise leave this core idle; the job may
// belong to another call, which is just as useful), then polls for spinWait
// before blocking.
func finishCall(call *parCall) {
	var ws *workspace
	t0 := time.Now()
	for call.remaining.Load() > 0 && time.Since(t0) < spinWait {
		select {
		case j := <-jobs:
			if ws == nil {
				ws = getWorkspace()
			}
			j.run(ws)
			t0 = time.Now()
		default:
			runtime.Gosched()
		}
	}
	if ws != nil {
		putWorkspace(ws)
	}
	call.wg.Wait()
	call.g = gemm{} // drop references to the caller's slices
	callPool.Put(call)
}

// parCall is one parallel Sgemm call shared by its jobs; pooled so a call
// does not allocate.
type parCall struct {
	g         gemm
	wg        sync.WaitGroup
	remaining atomic.Int32
}

var callPool = sync.Pool{New: func() any { return new(parCall) }}

// job is one tile C[i0:i1, j0:j1] of a parallel call, or with kind !=
// notGemv the outputs [i0, i1) of a matrix-vector product.
type job struct {
	call           *parCall
	kind           int
	i0, i1, j0, j1 int
}

// jobs feeds the persistent workers; they block on it when idle (no CPU).
var jobs = make(chan job, 64)

var workers struct {
	sync.Mutex
	n int
}

// startWorkers makes sure at least n pool goroutines are running.
func startWorkers(n int) {
	workers.Lock()
	for workers.n < n {
		workers.n++
		go worker()
	}
	workers.Unlock()
}

func worker() {
	var ws *workspace
	for {
		j := nextJob()
		if ws == nil || len(ws.a) != mcBlock*kcBlock || len(ws.b) != kcBlock*ncBlock {
			ws = getWorkspace()
		}
		j.run(ws)
	}
}

// run computes the job with workspace ws and signals its call.
func (j job) run(ws *workspace) {
	if j.kind != notGemv {
		j.call.g.gemvRange(j.kind, j.i0, j.i1)
	} else {
		j.call.g.tile(ws, j.i0, j.i1, j.j0, j.j1)
	}
	j.call.remaining.Add(-1)
	j.call.wg.Done()
}

// spinWait is how long a worker polls for the next job, and a caller for its
// workers, before parking. Parking costs ~30-130 us on these VMs: the woken
// thread must be rescheduled, often first onto the waker's CPU. A sequence of
// products (a forward pass) keeps the workers hot; an idle pool stops
// spinning after spinWait.
var spinWait = 200 * time.Microsecond

func nextJob() job {
	select {
	case j := <-jobs:
		return j
	default:
	}
	t0 := time.Now()
	for time.Since(t0) < spinWait {
		for range 16 {
			select {
			case j := <-jobs:
				return j
			default:
			}
		}
		runtime.Gosched()
	}
	return <-jobs
}

func lockThread()   { runtime.LockOSThread() }
func unlockThread() { runtime.UnlockOSThread() }
