"""Student programs that outlive their grading, found and stopped.

A student program runs in a session of its own so that a timeout kills its whole group, but a
program can also start something in yet another session (a daemon, a server it forgets) and exit, or
the process that grades it can be killed at a batch's time limit. Either way nothing would stop what
is left, and it would keep a core busy while the next submissions are graded. ``capstone grade``,
``capstone grade-batch`` and every warm batch worker therefore make themselves the *child
subreaper* of everything they start (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``): an orphaned
descendant becomes their own child, however it detached, and :func:`sweep` kills every child that is
not one the command is still waiting on.

Only the command-line entry points call :func:`adopt_orphans`: a library caller (a test session, a
notebook) has children of its own that are none of the grader's business.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Iterable

import psutil

PR_SET_CHILD_SUBREAPER = 36
_adopting = False


def adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants; False where the platform has no such thing."""
    global _adopting
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _adopting = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _adopting = False
    return _adopting


def children() -> list[int]:
    """Process ids whose parent is this process, zombies included (they still need reaping)."""
    with contextlib.suppress(psutil.Error):
        return [child.pid for child in psutil.Process().children()]
    return []


def kill_group(pid: int) -> None:
    """SIGKILL ``pid``'s process group (it leads one when it started a session) and ``pid`` itself."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def sweep(keep: Iterable[int] = (), settle_s: float = 2.0) -> int:
    """Kill every child of this process not in ``keep`` (with its process group) and reap it.

    Repeats until no such child is left or ``settle_s`` has passed, because what a killed orphan had
    started is re-parented here as it dies. Returns how many processes were stopped. Does nothing
    unless :func:`adopt_orphans` succeeded.
    """
    if not _adopting:
        return 0
    kept, stopped = set(keep), set()
    deadline = time.monotonic() + settle_s
    while True:
        strays = [pid for pid in children() if pid not in kept]
        for pid in strays:
            kill_group(pid)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            stopped.add(pid)
        if not strays or time.monotonic() > deadline:
            return len(stopped)
        time.sleep(0.05)
