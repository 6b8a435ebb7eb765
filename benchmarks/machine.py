"""Machine-load helpers shared by the benchmarks: how busy the machine is, and waiting
for it to go quiet, so a figure measured under someone else's load is flagged."""

from __future__ import annotations

import os
import resource
import time


def machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def own_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class IdleWait:
    """Before each measurement, wait (up to a total budget) for the other processes on the
    machine to go quiet: < 0.2 busy cores over a 2-second window."""

    def __init__(self, budget: float) -> None:
        self.left = budget

    def __call__(self) -> None:
        while self.left > 0:
            before, started = machine_busy_seconds(), time.perf_counter()
            if before is None:
                return
            time.sleep(2.0)
            elapsed = time.perf_counter() - started
            self.left -= elapsed
            if (machine_busy_seconds() - before) / elapsed < 0.2:
                return
        self.left = 0
