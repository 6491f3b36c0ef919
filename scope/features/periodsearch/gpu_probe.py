"""Can the GPU period search run here? One sentence saying what is missing when it cannot.

Nothing is probed at import. :func:`gpu_unavailable_reason` checks, in order: that numba has a
CUDA target (the built-in one, or the ``numba-cuda`` package of the ``gpu`` extra), that numba's
CUDA simulator is not switched on for the whole process (it would pretend to be a GPU), that the
NVIDIA driver loads and is new enough and sees a device, and that libNVVM (the CUDA compiler
numba needs) is found.
"""

from __future__ import annotations

INSTALL_HINT = 'pip install "scope-ztf[gpu]"'


def describe_cuda_error(text: str) -> str:
    """Turn numba's CUDA initialisation error into one sentence naming what is missing."""
    low = " ".join(str(text).split()).lower()
    if "driver library cannot be found" in low or "libcuda" in low:
        return "no NVIDIA driver found (libcuda.so is not installed: this machine has no CUDA GPU)"
    if "insufficient_driver" in low or "driver version is insufficient" in low or "driver too old" in low:
        return ("the NVIDIA driver is too old for this CUDA version (update the driver, or install a "
                "numba-cuda/CUDA build that matches it)")
    if "no_device" in low or "no cuda-capable device" in low or "no cuda devices" in low:
        return "the NVIDIA driver finds no CUDA device (is CUDA_VISIBLE_DEVICES empty?)"
    return "CUDA failed to initialise: " + " ".join(str(text).split())


def gpu_unavailable_reason() -> str | None:
    """None when a CUDA device can run the kernels, else why not (one sentence)."""
    import numba

    if numba.config.ENABLE_CUDASIM:
        return ("NUMBA_ENABLE_CUDASIM is set, so numba runs its CPU simulator instead of a GPU (unset it; "
                "the simulated kernels are the backend 'gpu-sim')")
    try:
        from numba import cuda
    except ImportError as exc:
        return f"numba has no CUDA target ({exc}); install it with: {INSTALL_HINT}"
    try:
        ok = cuda.is_available()
    except Exception as exc:  # any driver failure is a reason, not a crash
        return describe_cuda_error(str(exc))
    if not ok:
        return describe_cuda_error(str(cuda.cuda_error() or "no usable CUDA device"))
    try:
        from numba.cuda.cudadrv import nvvm

        nvvm.NVVM()
    except Exception as exc:
        return (f"numba cannot find libNVVM, the CUDA compiler it needs ({' '.join(str(exc).split())}); "
                f"install it with: {INSTALL_HINT}, or set CUDA_HOME")
    return None


def device_description() -> dict:
    """Name, compute capability and driver/runtime versions of the current device (for provenance)."""
    from numba import cuda

    info: dict = {"cuda_target": getattr(cuda, "implementation", "unknown")}
    try:
        dev = cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
        info.update(gpu=name, compute_capability=".".join(map(str, dev.compute_capability)))
        info["cuda_driver"] = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
    except Exception:  # provenance only: never fail a run over it
        pass
    return info
