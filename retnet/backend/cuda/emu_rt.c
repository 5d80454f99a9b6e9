//go:build cudaemu && !cuda

// The runtime of the CPU emulator of the CUDA execution model (see
// emu/cuda_emu.h for what it checks): fibers and their scheduler, device
// memory in one arena with a shadow word per 4 bytes, and the __tsan_*
// hooks that the kernel code (compiled as C++ with -fsanitize=thread,
// emu.cc) calls before every load and store. This file is C, compiled
// without the instrumentation (cgo gives C and C++ separate flags), so the
// hooks do not call themselves; no ThreadSanitizer runtime is linked: these
// hooks are the only definitions of its entry points.
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "emu/emu_rt.h"

uint3 emu_blockIdx;
dim3 emu_blockDim, emu_gridDim;

// ---- configuration and random numbers (splitmix64) ----

static uint64_t rng = 1;
static unsigned seed = 1;
static int checks = 1;        // race, initialisation and bounds checks
static unsigned preempt = 8;  // one access in preempt (on average) yields; 0: never

// emu_config sets the seed of the scheduler's random choices, whether
// accesses are checked, and how often a thread yields at an access.
void emu_config(unsigned s, int check, unsigned preemptEvery) {
    seed = s;
    rng = s;
    checks = check;
    preempt = preemptEvery;
}

static uint64_t next_rand(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ---- fibers ----

enum { READY, WAIT_BLOCK, WAIT_WARP, DONE, FAILED };

typedef struct {
    ucontext_t ctx;
    uint3 tid;
    int st;
    uint64_t in, out;
    int op, arg, width;
    unsigned mask;
    const char* site;
    char* stack;
} fiber;

enum { kStack = 64 << 10, kMaxThreads = 1024, kWarps = kMaxThreads / 32 };

static fiber* fibers;
static int nfib;
static fiber* cur;
static int in_fiber;  // the kernel's code is running (hooks check accesses)
static ucontext_t sched;
static void (*body)(void*);
static void* body_arg;
static char failure[768];
static int failed;
static const char* kernel_name = "";

// Happens-before bookkeeping. launch and block serials tag the shadow
// words, so none needs clearing: a word tagged with an older serial holds
// nothing about this launch (device memory) or this block (shared memory).
static uint32_t launch_serial, block_serial, block_lin;
static uint32_t bphase;              // __syncthreads released in this block
static uint16_t wphase[kWarps];      // warp operations released, per warp

static int lane_of(int t) { return t & 31; }
static int cur_thread(void) { return (int)(cur - fibers); }

static void block_coords(uint32_t lin, unsigned* x, unsigned* y, unsigned* z) {
    *x = lin % emu_gridDim.x;
    *y = lin / emu_gridDim.x % emu_gridDim.y;
    *z = lin / emu_gridDim.x / emu_gridDim.y;
}

// fail records the first error and, inside a thread, abandons it for good
// (the access that failed never happens: no fault on a guard page).
static void fail(const char* fmt, ...) {
    if (!failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(failure, sizeof failure, fmt, ap);
        va_end(ap);
        failed = 1;
    }
    if (in_fiber) {
        cur->st = FAILED;
        in_fiber = 0;
        swapcontext(&cur->ctx, &sched);
    }
}

static void to_scheduler(void) {
    in_fiber = 0;
    swapcontext(&cur->ctx, &sched);
    in_fiber = 1;
}

const uint3* emu_thread_idx(void) { return &cur->tid; }

void emu_syncthreads(const char* site) {
    cur->site = site;
    cur->st = WAIT_BLOCK;
    to_scheduler();
}

uint64_t emu_warp(uint64_t bits, int op, int arg, unsigned mask, int width, const char* site) {
    int lane = lane_of(cur_thread());
    if (!(mask >> lane & 1))
        fail("lane %d of warp %d calls a warp operation at %s with mask 0x%08x, which excludes it", lane,
             cur_thread() / 32, site, mask);
    if (width < 1 || width > 32 || (width & (width - 1)))
        fail("warp operation at %s with width %d (a power of two <= 32)", site, width);
    cur->in = bits;
    cur->op = op;
    cur->arg = arg;
    cur->mask = mask;
    cur->width = width;
    cur->site = site;
    cur->st = WAIT_WARP;
    to_scheduler();
    return cur->out;
}

static void entry(void) {
    in_fiber = 1;
    body(body_arg);
    in_fiber = 0;
    cur->st = DONE;  // returns to uc_link = sched
}

// ---- device memory: an arena of guarded allocations, and its shadow ----

// Per 4-byte word of shared or device memory: the last write and the last
// read (which thread, in which launch/block and phase, at which kernel pc)
// and flags.
typedef struct {
    uint32_t epoch;   // launch serial (device memory) or block serial (shared); 0: none
    uint32_t block;   // linear block of the access (device memory)
    uint32_t bphase;  // barrier phase of the block
    uint32_t pc;      // kernel code address of the access
    uint16_t thread;  // linear thread in the block
    uint16_t wphase;  // warp phase of the thread's warp
} rec;
typedef struct {
    rec w, r;
    uint32_t flags;
} shadow;
enum {
    SH_ALLOC = 1,      // inside a live allocation (device memory)
    SH_INIT = 2,       // written by the host or a kernel (device memory)
    SH_R_THREADS = 4,  // two or more threads read in r's phase
    SH_R_BLOCKS = 8,   // a block other than r's read in r's launch
};

static char* arena;  // device memory: [arena, arena + arena_len)
static size_t arena_len, arena_used, page;
static shadow* arena_sh;  // one per word of the arena (reserved, touched lazily)

extern char __start_emu_shared[] __attribute__((weak));
extern char __stop_emu_shared[] __attribute__((weak));
static shadow* shared_sh;

typedef struct {
    char* p;
    size_t bytes, span;
    int id, live;
} allocation;
static allocation* allocs;
static int nallocs, capallocs, next_id = 1;

static int arena_init(void) {
    if (arena) return 0;
    page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t len = (size_t)64 << 30; len >= ((size_t)1 << 30); len /= 2) {
        void* a = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (a == MAP_FAILED) continue;
        void* s = mmap(NULL, len / 4 * sizeof(shadow), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (s == MAP_FAILED) {
            munmap(a, len);
            continue;
        }
        arena = a;
        arena_len = len;
        arena_sh = s;
        break;
    }
    size_t sl = (size_t)(__stop_emu_shared - __start_emu_shared);
    shared_sh = calloc(sl / 4 + 1, sizeof(shadow));
    return arena ? 0 : -1;
}

static shadow* sh_of(uintptr_t a) { return &arena_sh[(a - (uintptr_t)arena) / 4]; }

static void set_flags(char* p, size_t bytes, uint32_t set, int clear_all) {
    shadow* s = sh_of((uintptr_t)p);
    size_t n = (bytes + 3) / 4;
    for (size_t i = 0; i < n; i++) {
        if (clear_all) memset(&s[i], 0, sizeof s[i]);
        s[i].flags |= set;
    }
}

// emu_alloc returns bytes of device memory filled with NaN (0xff bytes),
// 16-byte aligned and ending just before a PROT_NONE page; NULL when the
// arena is full.
void* emu_alloc(size_t bytes) {
    if (arena_init() != 0) return NULL;
    size_t n = (bytes + 15) / 16 * 16, span = (n + page - 1) / page * page;
    if (span == 0) span = page;
    allocation* a = NULL;
    for (int i = 0; i < nallocs; i++)  // reuse a freed span of the same size
        if (!allocs[i].live && allocs[i].span == span) {
            a = &allocs[i];
            break;
        }
    if (!a) {
        if (arena_used + span + page > arena_len) return NULL;
        if (nallocs == capallocs) {
            capallocs = capallocs ? 2 * capallocs : 64;
            allocs = realloc(allocs, capallocs * sizeof *allocs);
        }
        a = &allocs[nallocs++];
        a->span = span;
        a->p = arena + arena_used;
        arena_used += span + page;  // the page after the span stays PROT_NONE
    }
    a->bytes = bytes;
    a->id = next_id++;
    a->live = 1;
    if (mprotect(a->p, span, PROT_READ | PROT_WRITE) != 0) {
        a->live = 0;
        return NULL;
    }
    char* p = a->p + span - n;
    memset(p, 0xff, n);
    set_flags(a->p, span, 0, 1);
    set_flags(p, bytes, SH_ALLOC, 0);
    return p;
}

static allocation* alloc_at(uintptr_t p) {
    for (int i = 0; i < nallocs; i++)
        if (p >= (uintptr_t)allocs[i].p && p < (uintptr_t)allocs[i].p + allocs[i].span + page) return &allocs[i];
    return NULL;
}

void emu_free(void* p, size_t bytes) {
    (void)bytes;
    allocation* a = alloc_at((uintptr_t)p);
    if (!a) return;
    set_flags(a->p, a->span, 0, 1);
    madvise(a->p, a->span, MADV_DONTNEED);
    mprotect(a->p, a->span, PROT_NONE);
    a->live = 0;
}

// Host-side copies mark the words they fill as initialised.
void emu_htod(void* dst, const void* src, size_t bytes) {
    memcpy(dst, src, bytes);
    set_flags(dst, bytes, SH_INIT, 0);
}

void emu_memset(void* dst, int c, size_t bytes) {
    memset(dst, c, bytes);
    set_flags(dst, bytes, SH_INIT, 0);
}

void emu_dtod(void* dst, const void* src, size_t bytes) {
    memmove(dst, src, bytes);
    shadow *d = sh_of((uintptr_t)dst), *s = sh_of((uintptr_t)src);
    for (size_t i = 0; i < (bytes + 3) / 4; i++) d[i].flags = (d[i].flags & ~SH_INIT) | (s[i].flags & SH_INIT);
}

// ---- access checks ----

// describe names a word of shared or device memory for an error.
static void describe(char* buf, size_t n, uintptr_t a, int shared) {
    if (shared) {
        snprintf(buf, n, "shared memory (byte %zu of the emu_shared section)", (size_t)(a - (uintptr_t)__start_emu_shared));
        return;
    }
    allocation* al = alloc_at(a);
    if (!al) {
        snprintf(buf, n, "device address %#lx", (unsigned long)a);
        return;
    }
    char* p = al->p + al->span - (al->bytes + 15) / 16 * 16;
    long off = (long)(a - (uintptr_t)p);
    snprintf(buf, n, "allocation #%d (%zu bytes%s), byte %ld (float %ld)", al->id, al->bytes,
             al->live ? "" : ", freed", off, off / 4);
}

static void thread_name(char* buf, size_t n, uint32_t block, int thread, int shared) {
    unsigned x, y, z;
    if (shared || block == block_lin) {
        snprintf(buf, n, "thread %d (warp %d lane %d)", thread, thread / 32, thread % 32);
        return;
    }
    block_coords(block, &x, &y, &z);
    snprintf(buf, n, "thread %d of block (%u,%u,%u)", thread, x, y, z);
}

// ordered reports whether the recorded access happens before the current
// one by thread t: an older launch or block, the same thread, a
// __syncthreads between, or a warp operation of their warp between.
static int ordered(const rec* r, uint32_t E, uint32_t X, int t, uint32_t bp) {
    if (r->epoch != E) return 1;
    if (r->block != X) return 0;
    if (r->thread == t) return 1;
    if (r->bphase != bp) return 1;
    return (r->thread >> 5) == (t >> 5) && r->wphase != wphase[t >> 5];
}

// race reports a conflict of the current access with the recorded one
// (many: other threads than the recorded one read the word too).
static void race(const char* kind, uintptr_t a, int shared, const rec* other, int write, uint32_t pc, int many) {
    char where[160], me[80], them[80];
    describe(where, sizeof where, a, shared);
    thread_name(me, sizeof me, block_lin, cur_thread(), shared);
    thread_name(them, sizeof them, other->block, other->thread, shared);
    int wrote = strcmp(kind, "write after read") != 0;
    fail("data race (%s) on %s: %s %s it at pc %#x, %s%s %s it at pc %#x, with no barrier between%s", kind, where, me,
         write ? "writes" : "reads", pc, many ? "other threads and " : "", them, wrote ? "wrote" : "read", other->pc,
         (!shared && other->block != block_lin) ? " (blocks of one launch run in any order)" : "");
}

static void check_word(uintptr_t a, shadow* s, int shared, int write, uint32_t pc) {
    const int t = cur_thread();
    const uint32_t E = shared ? block_serial : launch_serial, X = shared ? 0 : block_lin, bp = bphase;
    char where[160];
    if (!shared && !(s->flags & SH_ALLOC)) {
        describe(where, sizeof where, a, 0);
        fail("%s of %s at pc %#x: outside every live allocation (out of bounds, or freed)", write ? "write" : "read",
             where, pc);
    }
    if (!write) {
        if (shared ? s->w.epoch != E : !(s->flags & SH_INIT)) {
            describe(where, sizeof where, a, shared);
            fail("read of uninitialised %s at pc %#x: nothing wrote it%s", where, pc,
                 shared ? " in this block (shared memory starts undefined in every block)" : "");
        }
        if (!ordered(&s->w, E, X, t, bp)) race("read after write", a, shared, &s->w, 0, pc, 0);
        rec* r = &s->r;
        if (r->epoch != E)
            s->flags &= ~(SH_R_THREADS | SH_R_BLOCKS);
        else if (r->block != X)
            s->flags = (s->flags | SH_R_BLOCKS) & ~SH_R_THREADS;
        else if (r->bphase != bp)
            s->flags &= ~SH_R_THREADS;
        else if (!ordered(r, E, X, t, bp))
            s->flags |= SH_R_THREADS;
        *r = (rec){E, X, bp, pc, (uint16_t)t, wphase[t >> 5]};
        return;
    }
    if (!ordered(&s->w, E, X, t, bp)) race("write after write", a, shared, &s->w, 1, pc, 0);
    const rec* r = &s->r;
    if (r->epoch == E) {
        if (r->block != X || (s->flags & SH_R_BLOCKS))
            race("write after read", a, shared, r, 1, pc, r->block == X);
        if (r->bphase == bp && ((s->flags & SH_R_THREADS) || !ordered(r, E, X, t, bp)))
            race("write after read", a, shared, r, 1, pc, (s->flags & SH_R_THREADS) != 0);
    }
    s->w = (rec){E, X, bp, pc, (uint16_t)t, wphase[t >> 5]};
    s->flags |= SH_INIT;
}

static void on_access(uintptr_t a, unsigned size, int write, void* pcp) {
    if (!in_fiber) return;
    uintptr_t slo = (uintptr_t)__start_emu_shared, slen = (uintptr_t)(__stop_emu_shared - __start_emu_shared);
    int shared;
    if (a - slo < slen)
        shared = 1;
    else if (a - (uintptr_t)arena < arena_len)
        shared = 0;
    else
        return;  // the thread's stack, the emulator's own data
    if (preempt && (shared || write) && next_rand() % preempt == 0) to_scheduler();  // let another thread run
    if (!checks) return;
    uint32_t pc = (uint32_t)(uintptr_t)pcp;
    for (uintptr_t w = a & ~(uintptr_t)3; w < a + size; w += 4)
        check_word(w, shared ? &shared_sh[(w - slo) / 4] : sh_of(w), shared, write, pc);
}

// The ThreadSanitizer entry points the instrumented code calls.
#define RA __builtin_return_address(0)
#define HOOKS(n)                                                                       \
    void __tsan_read##n(void* a) { on_access((uintptr_t)a, n, 0, RA); }                 \
    void __tsan_write##n(void* a) { on_access((uintptr_t)a, n, 1, RA); }                \
    void __tsan_unaligned_read##n(void* a) { on_access((uintptr_t)a, n, 0, RA); }       \
    void __tsan_unaligned_write##n(void* a) { on_access((uintptr_t)a, n, 1, RA); }      \
    void __tsan_volatile_read##n(void* a) { on_access((uintptr_t)a, n, 0, RA); }        \
    void __tsan_volatile_write##n(void* a) { on_access((uintptr_t)a, n, 1, RA); }
HOOKS(1)
HOOKS(2)
HOOKS(4)
HOOKS(8)
HOOKS(16)
void __tsan_read_range(void* a, size_t n) { on_access((uintptr_t)a, (unsigned)n, 0, RA); }
void __tsan_write_range(void* a, size_t n) { on_access((uintptr_t)a, (unsigned)n, 1, RA); }
void __tsan_func_entry(void* pc) { (void)pc; }
void __tsan_func_exit(void) {}
void __tsan_init(void) {}
void __tsan_vptr_update(void** p, void* v) { (void)p, (void)v; }
void __tsan_vptr_read(void** p) { (void)p; }

// ---- the scheduler ----

// release_warps releases every group of lanes whose warp operation all the
// lanes of its mask have reached, and fails on misuse. It reports whether
// any group was released.
static int release_warps(void) {
    int any = 0;
    for (int w0 = 0; w0 < nfib; w0 += 32) {
        int w1 = w0 + 32 < nfib ? w0 + 32 : nfib;
        for (int i = w0; i < w1; i++) {
            fiber* f = &fibers[i];
            if (f->st != WAIT_WARP) continue;
            unsigned m = f->mask;
            int ready = 1;
            for (int l = 0; l < 32 && ready; l++) {
                if (!(m >> l & 1)) continue;
                if (w0 + l >= w1) {
                    fail("warp %d: mask 0x%08x of the warp operation at %s names lane %d, which does not exist",
                         w0 / 32, m, f->site, l);
                    return 0;
                }
                fiber* g = &fibers[w0 + l];
                if (g->st == DONE) {
                    fail("warp %d: mask 0x%08x of the warp operation at %s names lane %d, which has exited", w0 / 32, m,
                         f->site, l);
                    return 0;
                }
                if (g->st != WAIT_WARP) {
                    ready = 0;
                    break;
                }
                if (g->mask != m || g->op != f->op || g->width != f->width) {
                    fail("warp %d: lanes %d and %d of mask 0x%08x meet at different warp operations (%s, mask 0x%08x; %s, "
                         "mask 0x%08x)",
                         w0 / 32, i - w0, l, m, f->site, m, g->site, g->mask);
                    return 0;
                }
            }
            if (!ready) continue;
            for (int l = 0; l < 32; l++) {
                if (!(m >> l & 1)) continue;
                fiber* g = &fibers[w0 + l];
                int wd = g->width, seg = l & ~(wd - 1), src = l;
                switch (g->op) {
                case EMU_SHFL_XOR: src = l ^ g->arg; if (src >= seg + wd) src = l; break;
                case EMU_SHFL_IDX: src = seg + (g->arg & (wd - 1)); break;
                case EMU_SHFL_DOWN: src = l + g->arg; if (src >= seg + wd) src = l; break;
                case EMU_SHFL_UP: src = l - g->arg; if (src < seg) src = l; break;
                }
                src &= 31;
                if (g->op != EMU_SYNCWARP && !(m >> src & 1)) {
                    fail("warp %d: lane %d reads lane %d in the shuffle at %s, outside its mask 0x%08x (undefined value)",
                         w0 / 32, l, src, g->site, m);
                    return 0;
                }
                g->out = fibers[w0 + src].in;
            }
            for (int l = 0; l < 32; l++)
                if (m >> l & 1) fibers[w0 + l].st = READY;
            wphase[w0 / 32]++;
            any = 1;
        }
    }
    return any;
}

static int run_block(void) {
    static int* order;
    static int norder;
    if (norder < nfib) {
        free(order);
        order = malloc(nfib * sizeof *order);
        norder = nfib;
    }
    for (int i = 0; i < nfib; i++) {
        fiber* f = &fibers[i];
        getcontext(&f->ctx);
        f->ctx.uc_stack.ss_sp = f->stack;
        f->ctx.uc_stack.ss_size = kStack;
        f->ctx.uc_link = &sched;
        makecontext(&f->ctx, entry, 0);
        f->st = READY;
        order[i] = i;
    }
    bphase = 1;
    memset(wphase, 0, sizeof wphase);
    for (;;) {
        int ran = 0;
        for (int i = nfib - 1; i > 0; i--) {  // a random order for this round
            int j = (int)(next_rand() % (uint64_t)(i + 1)), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        for (int k = 0; k < nfib; k++) {
            fiber* f = &fibers[order[k]];
            if (f->st != READY) continue;
            cur = f;
            swapcontext(&sched, &f->ctx);  // runs until it waits, yields or ends
            in_fiber = 0;
            ran = 1;
            if (failed) return 0;
        }
        if (ran) continue;
        int done = 0, waitb = 0, waitw = 0, first = -1;
        for (int i = 0; i < nfib; i++) {
            int st = fibers[i].st;
            done += st == DONE;
            waitw += st == WAIT_WARP;
            if (st == WAIT_BLOCK) {
                waitb++;
                if (first < 0) first = i;
            }
        }
        if (done == nfib) return 1;
        if (waitw) {
            if (release_warps()) continue;
            if (failed) return 0;
            for (int i = 0; i < nfib; i++)
                if (fibers[i].st == WAIT_WARP) {
                    fail("warp operation at %s (lane %d of warp %d, mask 0x%08x) can never complete: a lane of its mask "
                         "waits at __syncthreads%s%s",
                         fibers[i].site, i % 32, i / 32, fibers[i].mask, first >= 0 ? " at " : "",
                         first >= 0 ? fibers[first].site : "");
                    return 0;
                }
        }
        if (done) {
            fail("__syncthreads at %s is reached by %d of %d threads; the others have exited (a barrier in divergent "
                 "code)",
                 fibers[first].site, waitb, nfib);
            return 0;
        }
        for (int i = 0; i < nfib; i++)
            if (fibers[i].site != fibers[first].site && strcmp(fibers[i].site, fibers[first].site) != 0) {
                fail("threads wait at different barriers: thread %d at __syncthreads %s, thread %d at %s (a barrier in "
                     "divergent code)",
                     first, fibers[first].site, i, fibers[i].site);
                return 0;
            }
        bphase++;
        for (int i = 0; i < nfib; i++) fibers[i].st = READY;
    }
}

int emu_run(const char* kernel, int gx, int gy, int gz, int bx, int by, int bz, void (*fn)(void*), void* arg,
            char* err, int errlen) {
    int nt = bx * by * bz;
    if (nt < 1 || nt > kMaxThreads || gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535) {
        snprintf(err, errlen, "emu: bad launch of %s: grid (%d,%d,%d) block (%d,%d,%d)", kernel, gx, gy, gz, bx, by, bz);
        return -1;
    }
    if (arena_init() != 0) {
        snprintf(err, errlen, "emu: cannot reserve the device arena");
        return -1;
    }
    if (nfib != nt) {
        for (int i = 0; i < nfib; i++) munmap(fibers[i].stack, kStack);
        free(fibers);
        fibers = calloc(nt, sizeof *fibers);
        for (int i = 0; i < nt; i++)
            fibers[i].stack = mmap(NULL, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        nfib = nt;
    }
    int t = 0;
    for (int z = 0; z < bz; z++)
        for (int y = 0; y < by; y++)
            for (int x = 0; x < bx; x++) fibers[t++].tid = (uint3){(unsigned)x, (unsigned)y, (unsigned)z};
    emu_gridDim = (dim3){(unsigned)gx, (unsigned)gy, (unsigned)gz};
    emu_blockDim = (dim3){(unsigned)bx, (unsigned)by, (unsigned)bz};
    kernel_name = kernel;
    body = fn;
    body_arg = arg;
    failed = 0;
    failure[0] = 0;
    launch_serial++;
    // Blocks in a random order (Fisher-Yates over the linear block ids).
    uint32_t nb = (uint32_t)gx * gy * gz;
    uint32_t* blocks = malloc(nb * sizeof *blocks);
    for (uint32_t i = 0; i < nb; i++) blocks[i] = i;
    for (uint32_t i = nb - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(next_rand() % (i + 1)), x = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = x;
    }
    size_t slen = (size_t)(__stop_emu_shared - __start_emu_shared);
    int rc = 0;
    for (uint32_t i = 0; i < nb && rc == 0; i++) {
        block_lin = blocks[i];
        block_coords(block_lin, &emu_blockIdx.x, &emu_blockIdx.y, &emu_blockIdx.z);
        block_serial++;
        memset(__start_emu_shared, 0xff, slen);  // NaN in every float of __shared__
        if (!run_block()) {
            snprintf(err, errlen, "emu: %s block (%u,%u,%u) [RETLAB_EMU_SEED=%u]: %s", kernel, emu_blockIdx.x,
                     emu_blockIdx.y, emu_blockIdx.z, seed, failure);
            rc = -1;
        }
    }
    free(blocks);
    return rc;
}
