"""Ending a grading process without freeing every module it imported, one by one.

Once torch, MLflow and checkov are imported, a normal interpreter shutdown spends 1-2 s tearing them
down: on every ``capstone`` command, in every worker of a parallel grading, for every submission of a
batch. By then the reports are written, so the kit's processes end with ``os._exit`` right after the
``atexit`` handlers registered after :func:`arm` have run (standard streams and log handlers are
flushed first). Nothing else is skipped: temporary folders are removed by the context managers that
made them, before the process gets here.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys

_exit_code = 0


def arm(code: int = 0) -> None:
    """End the process with ``code`` (see :func:`set_code`) after the handlers registered later."""
    set_code(code)
    atexit.register(_end)


def set_code(code: int) -> None:
    """The exit status the process ends with."""
    global _exit_code
    _exit_code = code


def status_of(exc: SystemExit) -> int:
    """The status the interpreter would exit with for ``exc`` (None is 0, a message is 1)."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _end() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed by a reader that went away (`capstone labs | head`)
            stream.flush()
    logging.shutdown()
    os._exit(_exit_code)
