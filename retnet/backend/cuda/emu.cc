//go:build cudaemu && !cuda

// The CPU emulator of the kernels (see emu/cuda_emu.h): a fiber scheduler,
// device memory with guard pages, and a table of the kernels by name. The
// kernels are this package's .cu sources, compiled here as C++.
#include "emu/cuda_emu.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/gemm.cu"
#include "kernels/model.cu"
#include "kernels/retention.cu"

namespace emu {

uint3 blockIdx_;
dim3 blockDim_, gridDim_;

namespace {

enum State { READY, WAIT_BLOCK, WAIT_WARP, DONE };

struct Fiber {
    ucontext_t ctx;
    uint3 tid;
    State st;
    uint64_t in, out;
    int op, arg;
    char* stack;
};

const size_t kStack = 64 << 10;
ucontext_t sched;
std::vector<Fiber> fibers;
Fiber* cur;
std::function<void()> body;
std::mt19937 rng(1);
std::string failure;

void entry() {
    body();
    cur->st = DONE;  // returns to uc_link = sched
}

void yield() { swapcontext(&cur->ctx, &sched); }

// release_warps hands out the shuffle results of every warp whose live lanes
// all wait on a warp operation. It reports whether any warp was released,
// and fails on a warp split between a warp operation and anything else.
bool release_warps() {
    bool any = false;
    size_t n = fibers.size();
    for (size_t w0 = 0; w0 < n; w0 += 32) {
        size_t w1 = std::min(n, w0 + 32);
        int waiting = 0, live = 0;
        for (size_t i = w0; i < w1; i++) {
            if (fibers[i].st != DONE) live++;
            if (fibers[i].st == WAIT_WARP) waiting++;
        }
        if (waiting == 0) continue;
        if (waiting != live || live != (int)(w1 - w0)) {
            failure = "warp operation reached by only part of warp " + std::to_string(w0 / 32) +
                      " (lanes exited or waiting at __syncthreads)";
            return false;
        }
        for (size_t i = w0; i < w1; i++) {
            int lane = (int)(i - w0), src = lane;
            Fiber& f = fibers[i];
            if (f.op == 0) src = lane ^ f.arg;
            if (f.op == 1) src = f.arg & 31;
            if (f.op == 2) src = lane + f.arg < 32 ? lane + f.arg : lane;
            f.out = fibers[w0 + (src & 31)].in;
        }
        for (size_t i = w0; i < w1; i++) fibers[i].st = READY;
        any = true;
    }
    return any;
}

bool run_block() {
    std::vector<size_t> order(fibers.size());
    for (size_t i = 0; i < order.size(); i++) {
        Fiber& f = fibers[i];
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = &sched;
        makecontext(&f.ctx, entry, 0);
        f.st = READY;
        order[i] = i;
    }
    for (;;) {
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t i : order) {
            Fiber& f = fibers[i];
            while (f.st == READY) {
                cur = &f;
                swapcontext(&sched, &f.ctx);
            }
        }
        bool allDone = true;
        for (auto& f : fibers) allDone &= f.st == DONE;
        if (allDone) return true;
        if (release_warps()) continue;
        if (!failure.empty()) return false;
        for (auto& f : fibers) {
            if (f.st == WAIT_WARP) {
                failure = "warp operation deadlock";
                return false;
            }
            if (f.st == WAIT_BLOCK) f.st = READY;
        }
    }
}

// Kernel table: name -> a function that binds the argument values.
template <class... A, size_t... I>
std::function<void()> bind_args(void (*f)(A...), void** args, std::index_sequence<I...>) {
    std::tuple<A...> vals{*reinterpret_cast<A*>(args[I])...};
    return [f, vals]() { std::apply(f, vals); };
}
template <class... A>
std::pair<int, std::function<std::function<void()>(void**)>> entry_of(void (*f)(A...)) {
    return {(int)sizeof...(A),
            [f](void** args) { return bind_args(f, args, std::index_sequence_for<A...>{}); }};
}

struct Kernel {
    const char* name;
    std::pair<int, std::function<std::function<void()>(void**)>> bind;
};
#define EMU_KERNEL(k) {#k, entry_of(k)}
const Kernel kernels[] = {
    EMU_KERNEL(sgemm_tiled),        EMU_KERNEL(ret_parallel),     EMU_KERNEL(ret_chunk_state),
    EMU_KERNEL(ret_chunk_scores),   EMU_KERNEL(ret_chunk_output), EMU_KERNEL(ret_recurrent_step),
    EMU_KERNEL(ret_rotate),         EMU_KERNEL(ret_groupnorm_gate), EMU_KERNEL(lm_embed),
    EMU_KERNEL(lm_rmsnorm),         EMU_KERNEL(lm_glu),             EMU_KERNEL(lm_axpy),
};

}  // namespace

const uint3& thread_idx() { return cur->tid; }

void syncthreads() {
    cur->st = WAIT_BLOCK;
    yield();
}

uint64_t shfl(uint64_t bits, int op, int arg) {
    cur->in = bits;
    cur->op = op;
    cur->arg = arg;
    cur->st = WAIT_WARP;
    yield();
    return cur->out;
}

}  // namespace emu

extern "C" {

// emu_launch runs kernel name over the grid; args[i] points at the i-th
// argument's value. It returns 0, or -1 with a message in err.
int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, void** args, int nargs,
               char* err, int errlen) {
    using namespace emu;
    failure.clear();
    const Kernel* k = nullptr;
    for (auto& kk : kernels)
        if (std::strcmp(kk.name, name) == 0) k = &kk;
    if (!k) {
        snprintf(err, errlen, "emu: no kernel %s", name);
        return -1;
    }
    if (k->bind.first != nargs) {
        snprintf(err, errlen, "emu: kernel %s takes %d arguments, launched with %d", name, k->bind.first, nargs);
        return -1;
    }
    int nt = bx * by * bz;
    if (nt < 1 || nt > 1024 || gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535) {
        snprintf(err, errlen, "emu: bad launch of %s: grid (%d,%d,%d) block (%d,%d,%d)", name, gx, gy, gz, bx, by,
                 bz);
        return -1;
    }
    body = k->bind.second(args);
    if (fibers.size() != (size_t)nt) {
        for (auto& f : fibers) munmap(f.stack, kStack);
        fibers.assign(nt, Fiber{});
        for (auto& f : fibers)
            f.stack = (char*)mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    int t = 0;
    for (int z = 0; z < bz; z++)
        for (int y = 0; y < by; y++)
            for (int x = 0; x < bx; x++) fibers[t++].tid = uint3{(unsigned)x, (unsigned)y, (unsigned)z};
    gridDim_ = dim3{(unsigned)gx, (unsigned)gy, (unsigned)gz};
    blockDim_ = dim3{(unsigned)bx, (unsigned)by, (unsigned)bz};
    for (int z = 0; z < gz; z++)
        for (int y = 0; y < gy; y++)
            for (int x = 0; x < gx; x++) {
                blockIdx_ = uint3{(unsigned)x, (unsigned)y, (unsigned)z};
                if (!run_block()) {
                    snprintf(err, errlen, "emu: %s block (%d,%d,%d): %s", name, x, y, z, failure.c_str());
                    return -1;
                }
            }
    return 0;
}

void emu_seed(unsigned s) { emu::rng.seed(s); }

// emu_alloc returns bytes of "device" memory filled with NaN (0xff bytes),
// ending 16-byte aligned just before a PROT_NONE page, so running off the
// end faults; emu_free releases it.
void* emu_alloc(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = (bytes + 15) / 16 * 16;
    size_t span = (n + page - 1) / page * page;
    char* base = (char*)mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    mprotect(base + span, page, PROT_NONE);
    char* p = base + span - n;
    std::memset(p, 0xff, n);
    return p;
}

void emu_free(void* p, size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = (bytes + 15) / 16 * 16;
    size_t span = (n + page - 1) / page * page;
    char* base = (char*)p + n - span;
    munmap(base, span + page);
}
}
