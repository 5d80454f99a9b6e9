//go:build cuda

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

// cuBLAS is loaded at run time (dlopen), not linked: a binary linked to
// one libcublas.so.N does not start where only another N is installed
// (Debian ships 11, the H200 machine has 13). cublasSgemm_v2 has the same
// C ABI in all of them. The types are spelled out here so no cuBLAS header
// is needed to build.
typedef int (*rl_create_t)(void**);
typedef int (*rl_destroy_t)(void*);
typedef int (*rl_setmath_t)(void*, int);
typedef int (*rl_sgemm_t)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int,
                          const float*, float*, int);

static rl_create_t rl_create;
static rl_destroy_t rl_destroy;
static rl_setmath_t rl_setmath;
static rl_sgemm_t rl_sgemm;
static char rl_loaded[256];

// rl_cublas_load returns 0 and the library's name in rl_loaded, or -1.
static int rl_cublas_load(void) {
	const char* names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"};
	for (int i = 0; i < 4; i++) {
		void* h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) continue;
		rl_create = (rl_create_t)dlsym(h, "cublasCreate_v2");
		rl_destroy = (rl_destroy_t)dlsym(h, "cublasDestroy_v2");
		rl_setmath = (rl_setmath_t)dlsym(h, "cublasSetMathMode");
		rl_sgemm = (rl_sgemm_t)dlsym(h, "cublasSgemm_v2");
		if (rl_create && rl_destroy && rl_sgemm) {
			snprintf(rl_loaded, sizeof rl_loaded, "%s", names[i]);
			return 0;
		}
		dlclose(h);
	}
	return -1;
}

static const char* rl_cublas_name(void) { return rl_loaded; }

static int rl_cublas_create(uintptr_t* handle) {
	void* h = 0;
	int st = rl_create(&h);
	if (st == 0 && rl_setmath) rl_setmath(h, 0);  // CUBLAS_DEFAULT_MATH: full float32, no TF32
	*handle = (uintptr_t)h;
	return st;
}

static int rl_cublas_destroy(uintptr_t handle) { return rl_destroy((void*)handle); }

static int rl_cublas_sgemm(uintptr_t handle, int ta, int tb, int m, int n, int k, float alpha, uintptr_t A, int lda,
                           uintptr_t B, int ldb, float beta, uintptr_t C, int ldc) {
	return rl_sgemm((void*)handle, ta, tb, m, n, k, &alpha, (const float*)A, lda, (const float*)B, ldb, &beta,
	                (float*)C, ldc);
}
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
)

// cublas is a cuBLAS handle in the backend's context.
type cublas struct {
	h    C.uintptr_t
	name string
}

var (
	cublasOnce    sync.Once
	cublasLoadErr error
)

// openCUBLAS loads cuBLAS (once per process) and creates a handle in the
// current context; RETLAB_CUBLAS=0 turns it off. A nil result with a
// reason means the sgemm_tiled kernel does the products.
func openCUBLAS() (*cublas, string) {
	if os.Getenv("RETLAB_CUBLAS") == "0" {
		return nil, "off (RETLAB_CUBLAS=0)"
	}
	cublasOnce.Do(func() {
		if C.rl_cublas_load() != 0 {
			cublasLoadErr = fmt.Errorf("no libcublas.so{,.13,.12,.11} could be loaded")
		}
	})
	if cublasLoadErr != nil {
		return nil, cublasLoadErr.Error()
	}
	var h C.uintptr_t
	if st := C.rl_cublas_create(&h); st != 0 {
		return nil, fmt.Sprintf("cublasCreate failed with status %d", int(st))
	}
	return &cublas{h: h, name: C.GoString(C.rl_cublas_name())}, ""
}

// sgemm is the row-major product through column-major cuBLAS: C^T = op(B)^T op(A)^T.
func (c *cublas) sgemm(transA, transB bool, m, n, k int, alpha float32, a devPtr, lda int, b devPtr, ldb int, beta float32, cp devPtr, ldc int) error {
	op := func(t bool) C.int {
		if t {
			return 1 // CUBLAS_OP_T
		}
		return 0 // CUBLAS_OP_N
	}
	st := C.rl_cublas_sgemm(c.h, op(transB), op(transA), C.int(n), C.int(m), C.int(k), C.float(alpha),
		C.uintptr_t(b), C.int(ldb), C.uintptr_t(a), C.int(lda), C.float(beta), C.uintptr_t(cp), C.int(ldc))
	if st != 0 {
		return fmt.Errorf("cublasSgemm failed with status %d", int(st))
	}
	return nil
}

func (c *cublas) close() error {
	if st := C.rl_cublas_destroy(c.h); st != 0 {
		return fmt.Errorf("cublasDestroy failed with status %d", int(st))
	}
	return nil
}
