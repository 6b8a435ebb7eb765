"""Race (backend, strategy) pairs on one task; the first definitive answer wins.

Each racer runs in a forked child process (solver calls cannot be interrupted from Python,
but a process can be killed), writes its pickled result to a pipe and exits. The parent
takes the first *definitive* result (the caller decides what that means: for an instance,
anything but "solver unknown"), kills the others and reaps every child. When the budget
runs out first, nobody wins and the task is rejected by the caller.

Content stays deterministic: every racer decides the same sat/unsat facts about the same
formulas, so any definitive racer yields the same row; only which racer came first (the
row's `meta.solver.winner`) depends on timing.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RaceResult:
    """The winner's label and result; `results` has every racer that finished in time."""

    winner: str | None
    result: Any
    results: dict[str, Any] = field(default_factory=dict)
    timed_out: list[str] = field(default_factory=list)


def race(
    tasks: list[tuple[str, Callable[[], Any]]],
    budget: float,
    definitive: Callable[[Any], bool],
) -> RaceResult:
    """Run `tasks` (label, thunk) concurrently for at most `budget` seconds."""
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return _sequential(tasks, definitive)
    children: dict[int, tuple[str, int]] = {}  # read fd -> (label, pid)
    for label, thunk in tasks:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read)
            code = 0
            try:
                payload = pickle.dumps(("ok", thunk()))
            except BaseException as error:  # noqa: BLE001 - a child must always report back
                payload = pickle.dumps(("error", f"{type(error).__name__}: {error}"))
                code = 1
            with os.fdopen(write, "wb") as out:
                out.write(payload)
            os._exit(code)
        os.close(write)
        children[read] = (label, pid)
    buffers: dict[int, bytearray] = {fd: bytearray() for fd in children}
    outcome = RaceResult(None, None)
    deadline = time.monotonic() + budget
    try:
        open_fds = set(children)
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(open_fds), [], [], left)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    buffers[fd] += chunk
                    continue
                open_fds.discard(fd)
                label = children[fd][0]
                try:
                    status, value = pickle.loads(bytes(buffers[fd]))
                except (pickle.UnpicklingError, EOFError, ValueError) as error:  # died mid-write
                    status, value = "error", f"racer died: {error}"
                if status != "ok":
                    outcome.results[label] = RuntimeError(value)
                    continue
                outcome.results[label] = value
                if outcome.winner is None and definitive(value):
                    outcome.winner, outcome.result = label, value
                    return outcome
        outcome.timed_out = [children[fd][0] for fd in open_fds]
        return outcome
    finally:
        for fd, (_, pid) in children.items():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(fd)


def _sequential(
    tasks: list[tuple[str, Callable[[], Any]]], definitive: Callable[[Any], bool]
) -> RaceResult:
    """Where fork is unavailable: run in order, stop at the first definitive result."""
    outcome = RaceResult(None, None)
    for label, thunk in tasks:
        value = thunk()
        outcome.results[label] = value
        if definitive(value):
            outcome.winner, outcome.result = label, value
            break
    return outcome
