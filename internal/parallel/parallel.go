// Package parallel splits coarse loops (heads, row tiles, optimizer blocks)
// over GOMAXPROCS goroutines.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For runs fn(worker, i) for i in [0,n) on up to GOMAXPROCS
// goroutines, handing out indices one at a time (items here are coarse: a
// head, a row tile). worker in [0, Workers(n)) lets fn use per-worker
// scratch. It runs inline when n or the core count is 1.
func For(n int, fn func(worker, i int)) {
	w := Workers(n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(w)
	for id := 0; id < w; id++ {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(id, i)
			}
		}()
	}
	wg.Wait()
}

// Workers is how many goroutines For(n, ...) uses.
func Workers(n int) int {
	w := runtime.GOMAXPROCS(0)
	if w > n {
		w = n
	}
	if w < 1 {
		w = 1
	}
	return w
}
