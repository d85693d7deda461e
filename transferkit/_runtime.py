"""Runtime settings for fast CPU/GPU work: allocator tuning, device and precision choice.

Nothing here runs on import; callers opt in (the feature extractor and the trainer do).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys

_ALLOCATOR_TUNED = False

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8


def tune_allocator() -> bool:
    """Stop glibc from returning PyTorch's large buffers to the OS after every batch.

    With glibc's defaults each batch of 32 images through EfficientNet-Lite0 costs about
    600,000 minor page faults (buffers are mmapped, freed, mmapped again); keeping them in the
    heap made the model 2-3x faster here. Threads created afterwards share the main heap
    (``M_ARENA_MAX=1``): a thread's own arena is unmapped whenever it becomes empty, which
    brought back 74,000 page faults a batch (1.7x the CPU time) when the model ran in a worker
    thread. Equivalent to ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large>
    MALLOC_ARENA_MAX=1``. Returns True when the settings were applied (glibc only;
    set ``TRANSFERKIT_NO_MALLOPT=1`` to opt out).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("TRANSFERKIT_NO_MALLOPT"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_MAX, 0) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 2**30) == 1 and ok
        ok = libc.mallopt(_M_ARENA_MAX, 1) == 1 and ok
    except (OSError, AttributeError):
        return False
    _ALLOCATOR_TUNED = ok
    return ok


def cpu_bf16_native() -> bool:
    """True when this CPU runs bf16 matrix kernels natively (AVX512-BF16 / AMX, as oneDNN sees it).

    On such CPUs bf16 autocast made EfficientNet-Lite0 2-5x faster. On CPUs without it (e.g.
    AVX2-only) PyTorch emulates bf16 and the same model ran about 15x *slower* than fp32 here,
    so ``precision='auto'`` uses fp32 there. ``TRANSFERKIT_CPU_BF16=1`` or ``0`` overrides.
    """
    env = os.environ.get("TRANSFERKIT_CPU_BF16")
    if env is not None:
        return env.strip().lower() in ("1", "true", "yes", "on")
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def pick_device(device: str | None = None):
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def autocast_dtype(device, precision: str = "auto"):
    """The autocast dtype for ``precision`` ('auto', 'fp32', 'bf16', 'fp16'), or None for fp32."""
    import torch

    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if precision != "auto":
        from .errors import TransferkitError

        raise TransferkitError(f"unknown precision {precision!r}; use auto, fp32, bf16 or fp16")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_bf16_native() else None


def autocast(device, dtype):
    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Set PyTorch's intra-op thread count to ``n`` inside the block (``None``: unchanged).

    The CPU fast path runs one whole batch per core with one thread each instead of one
    batch with every core: no OpenMP team spins waiting for a partner thread that the OS (or
    the decoding threads) took away, which cost 2x the CPU time per image under load here.
    """
    if n is None:
        yield
        return
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)
