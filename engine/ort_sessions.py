"""How every ONNX Runtime session here is set up: the serving backbone and head, the garment mask, the pose
models. Torch-free."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any


def cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may run on: its CPU affinity, capped by a container's CPU quota (cgroup v2
    ``cpu.max``, e.g. a Kubernetes limit of 2 CPUs on a 64-core node), where there is one."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 here, or a file of another shape: the affinity stands
        pass
    return count


def session_options(threads: int | None = None) -> Any:
    """All graph optimisations, ``threads`` intra-op threads (default: the cores there are), and no spinning.

    A photo runs several sessions one after another (mask, backbone, head; pose) beside decode threads; a
    session's idle pool threads spin for a while by default, taking the cores the next one needs: on two
    cores the mask took 120 ms with spinning and 80 without, on a busy machine (BENCHMARKS.md)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or cores()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def providers() -> list[str]:
    """CUDA where onnxruntime-gpu has it, then the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]
