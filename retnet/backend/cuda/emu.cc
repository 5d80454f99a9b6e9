//go:build cudaemu && !cuda

// The kernels of this package (kernels/*.cu) and the emulator's self-test
// kernels (emu/defects.cuh), compiled as C++ for the CPU emulator (see
// emu/cuda_emu.h; the runtime is emu_rt.c), and a table of them by name.
// This file is compiled with -fsanitize=thread: every load and store calls
// the runtime's hooks.
#include "emu/cuda_emu.h"

#include <cstdio>
#include <functional>
#include <tuple>
#include <utility>

#include "kernels/gemm.cu"
#include "kernels/model.cu"
#include "kernels/retention.cu"
#include "emu/defects.cuh"

namespace {

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
    EMU_DEFECT_KERNELS
};

void call(void* f) { (*static_cast<std::function<void()>*>(f))(); }

}  // namespace

extern "C" {

// emu_launch runs kernel name over the grid; args[i] points at the i-th
// argument's value. It returns 0, or -1 with a message in err.
int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, void** args, int nargs,
               char* err, int errlen) {
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
    std::function<void()> body = k->bind.second(args);
    return emu_run(name, gx, gy, gz, bx, by, bz, call, &body, err, errlen);
}
}


