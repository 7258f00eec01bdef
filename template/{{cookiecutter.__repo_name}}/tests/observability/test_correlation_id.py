"""One request, one id: X-Request-ID is in the API's log lines, the audit record and the worker's log lines.

The API runs under uvicorn in a subprocess (as in production, with JSON logs on stderr); an analysis
request queues a job, and the job is run either inside the API (in-process queue) or by a separate
``python -m copilot.worker`` process reading a real Redis stream. Both processes' logs and the audit
store are then searched for the request's id.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.audit.records import AuditQuery
from copilot.audit.store import AuditStore
from copilot.core.database import create_db_engine
from tests.conftest import REPO, TEST_JWT_SECRET, TokenFactory
from tests.jobs.servers import free_port, redis_server

pytestmark = [pytest.mark.lab("lab04"), pytest.mark.slow]
STARTUP_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 60.0


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
        "HOME": str(tmp_path),
        "COPILOT_ENV": "test",
        "COPILOT_JWT_SECRET": TEST_JWT_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'copilot.db'}",
        "COPILOT_DATA_DIR": str(REPO / "data"),
        "COPILOT_PLANT_CONFIG": str(REPO / "config" / "plant.yaml"),
        "COPILOT_MODEL_URI": str(REPO / "models" / "inspection-cnn.pt"),
        "COPILOT_WORKER_HEARTBEAT": str(tmp_path / "worker.heartbeat"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess whose output goes to ``log``; stopped with SIGTERM (graceful shutdown) afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _wait_until_serving(base_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the API exited early:\n{log.read_text()[-3000:]}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"the API did not answer /healthz in {STARTUP_TIMEOUT_S:g} s:\n{log.read_text()[-3000:]}")


def _json_lines(log: Path) -> list[dict[str, Any]]:
    records = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                records.append(value)
    return records


@pytest.mark.parametrize("backend", ["inprocess", "redis"])
def test_request_id_reaches_api_logs_audit_record_and_worker_logs(
    backend: str, tmp_path: Path, token: TokenFactory, plant: str, equipment: str
) -> None:
    request_id = f"corr-e2e-{backend}-0001"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    with contextlib.ExitStack() as stack:
        if backend == "redis":
            redis_url = stack.enter_context(redis_server(tmp_path))
            queue = {"COPILOT_QUEUE_BACKEND": "redis", "REDIS_URL": redis_url, "COPILOT_INPROCESS_WORKER": "false"}
            stack.enter_context(
                _process([sys.executable, "-m", "copilot.worker"], _env(tmp_path, **queue), tmp_path, worker_log)
            )
        else:
            queue = {}
        command = [sys.executable, "-m", "uvicorn", "copilot.main:app", "--host", "127.0.0.1", "--port", str(port)]
        api = stack.enter_context(_process(command, _env(tmp_path, **queue), tmp_path, api_log))
        _wait_until_serving(base_url, api, api_log)
        headers = {"Authorization": f"Bearer {token()}", "X-Request-ID": request_id}
        body = {"plant": plant, "equipment": equipment, "question": "Which faults recurred on this press?"}
        accepted = httpx.post(base_url + "/v1/analyses", json=body, headers=headers, timeout=10)
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["x-request-id"] == request_id
        deadline = time.monotonic() + JOB_TIMEOUT_S
        status = "queued"
        while status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            status = httpx.get(base_url + accepted.json()["status_url"], headers=headers, timeout=10).json()["status"]
        assert status == "succeeded", f"the analysis ended {status}; worker log:\n{_tail(worker_log)}"
    # Both processes have shut down gracefully: logs are complete and the audit writer has drained.

    api_lines = [r for r in _json_lines(api_log) if r.get("correlation_id") == request_id]
    assert any(r.get("logger") == "uvicorn.access" and "/v1/analyses" in r["event"] for r in api_lines), (
        f"no API log line carries {request_id}:\n{_tail(api_log)}"
    )

    store = AuditStore(create_db_engine(f"sqlite:///{tmp_path / 'copilot.db'}"))
    _, records = store.query(AuditQuery(correlation_id=request_id))
    assert [(r.method, r.route, r.status) for r in records if r.route == "/v1/analyses"] == [
        ("POST", "/v1/analyses", 202)
    ]

    worker_lines = _json_lines(worker_log if backend == "redis" else api_log)
    stored = [r for r in worker_lines if r.get("event") == "analysis stored"]
    assert stored and all(r.get("correlation_id") == request_id for r in stored), (
        f"the worker's log lines do not carry {request_id}:\n{_tail(worker_log if backend == 'redis' else api_log)}"
    )


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else "(no log)"
