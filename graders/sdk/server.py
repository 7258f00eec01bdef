"""Starting a student's web service in a subprocess and waiting until it answers.

Used by the labs that drive the student's API over HTTP (lab02, lab04, lab06). The service runs
under the same limits as any student program (scrubbed environment, memory cap) and its whole
process group is killed when the check is done, even if the check fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from graders.sdk.checks import CheckFailed
from graders.sdk.process import (
    DEFAULT_MEMORY_MB,
    MAX_OUTPUT_CHARS,
    _limits,
    limit_child,
    read_capped,
    scrubbed_env,
    stop_group,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningService:
    base_url: str
    process: subprocess.Popen[bytes]
    _log: IO[bytes]

    def log_tail(self, lines: int = 20) -> str:
        text = read_capped(self._log, MAX_OUTPUT_CHARS)
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self, max_chars: int = 200_000) -> str:
        """The last ``max_chars`` characters the service has logged so far (for checks that search its logs)."""
        self._log.flush()
        size = self._log.seek(0, 2)
        self._log.seek(max(0, size - max_chars * 4))
        return self._log.read().decode("utf-8", errors="replace")[-max_chars:]


@contextlib.contextmanager
def serve(
    command: Sequence[str],
    *,
    cwd: Path | str,
    port: int,
    ready_path: str = "/healthz",
    startup_timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> Iterator[RunningService]:
    """Run ``command`` (which must listen on ``port``) until ``ready_path`` answers, then yield it.

    If the service exits or never answers, the check fails with the tail of the service's log,
    so the student sees their own traceback.
    """
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="capstone-svc-") as home, tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(c) for c in command],
            cwd=str(cwd),
            env=scrubbed_env(env, home=home),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limits(memory_mb),
        )
        limit_child(proc.pid, memory_mb)
        service = RunningService(base_url, proc, log)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if proc.poll() is not None:
                    raise CheckFailed(
                        f"the service exited with code {proc.returncode} before answering {ready_path}; "
                        f"its last log lines:\n{service.log_tail()}"
                    )
                try:
                    if httpx.get(base_url + ready_path, timeout=2.0).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise CheckFailed(
                        f"the service did not answer {ready_path} within {startup_timeout:g} s; "
                        f"its last log lines:\n{service.log_tail()}"
                    )
                time.sleep(0.1)
            yield service
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            stop_group(proc)
