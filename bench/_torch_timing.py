"""The machine line and the timed step loop shared by the PyTorch twins (bench/torch_*_step.py).

The twins' output lines are read by bench/backend_bench.ts; keep their wording.
"""

import os
import time

import torch


def print_machine() -> None:
    """Prints torch's version, its thread count, the core count and the load average."""
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores, load average {load}")


def time_steps(train_step, warmup: int, steps: int):
    """Runs `warmup` untimed then `steps` timed calls of train_step(step_index).

    Returns (median seconds, best seconds, last loss).
    """
    step = 0
    for _ in range(warmup):
        train_step(step)
        step += 1
    runs = []
    loss = float("nan")
    for _ in range(steps):
        start = time.perf_counter()
        loss = train_step(step)
        runs.append(time.perf_counter() - start)
        step += 1
    runs.sort()
    return runs[len(runs) // 2], runs[0], loss
