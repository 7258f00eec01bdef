"""Real servers for the queue and worker tests: redis-server and the Pub/Sub emulator.

Each is started on a free loopback port in a temporary folder and stopped (its whole process
group) afterwards. A missing binary skips the tests that need it with a loud reason; CI installs
redis-server, and the Pub/Sub emulator ships with the gcloud CLI. PostgreSQL comes from the
``postgres_url`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}:\n{detail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:g} s")


def require_binary(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"LOUD SKIP: `{name}` is not installed, so this real-server test cannot run ({hint})")
    return path


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throw-away redis-server; yields its URL."""
    binary = require_binary("redis-server", "apt-get install redis-server")
    port = free_port()
    log = workdir / "redis.log"
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(log),
        ],
        start_new_session=True,
    )
    try:
        wait_for_port(port, proc, STARTUP_TIMEOUT_S, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop_group(proc)


@contextlib.contextmanager
def pubsub_emulator(workdir: Path) -> Iterator[str]:
    """The Pub/Sub emulator of the gcloud CLI; yields its ``host:port`` (for PUBSUB_EMULATOR_HOST)."""
    gcloud = require_binary("gcloud", "install the Google Cloud CLI with the pubsub-emulator component")
    port = free_port()
    log = workdir / "pubsub-emulator.log"
    (workdir / "pubsub-data").mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                gcloud,
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port=127.0.0.1:{port}",
                f"--data-dir={workdir / 'pubsub-data'}",
                "--quiet",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, proc, 120.0, log)
        yield f"127.0.0.1:{port}"
    finally:
        _stop_group(proc)
