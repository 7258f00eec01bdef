"""What the Prometheus metrics middleware costs: /healthz throughput of the Copilot with and without it.

    python benchmarks/metrics_overhead.py [--requests N] [--rounds R]

The reference Copilot (``create_app``, full middleware stack: audit trail, body limit, metrics; its
lifespan running on a temporary SQLite database) is called directly through ASGI, so the numbers
are the application's own cost per request, without the noise of sockets and an HTTP client. The
"without" app is the same app with the metrics middleware taken out of its stack. Time is this
process's CPU time (other processes on a shared machine do not inflate it); many short rounds
alternate between the two variants and the best and the median round of each are reported.

Goal (issue 6): the middleware costs at most 10% of /healthz throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference_solution"
GOAL_OVERHEAD = 0.10


def _import_reference() -> None:
    for path in (REFERENCE, REFERENCE / "src"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


@contextlib.asynccontextmanager
async def running_app(workdir: Path, with_metrics: bool) -> AsyncIterator[Any]:
    from copilot.core.config import Settings
    from copilot.main import create_app
    from copilot.observability.metrics import PrometheusMiddleware

    settings = Settings(
        env="test",
        database_url=f"sqlite:///{workdir / ('with.db' if with_metrics else 'without.db')}",
        data_dir=str(REFERENCE / "data"),
        plant_config=REFERENCE / "config" / "plant.yaml",
        model_uri=str(workdir / "no-model.pt"),
        log_level="WARNING",
    )
    app = create_app(settings)
    if not with_metrics:  # the stack is built on the first request, so it can still be edited here
        app.user_middleware = [m for m in app.user_middleware if m.cls is not PrometheusMiddleware]
    async with app.router.lifespan_context(app):
        yield app


async def call(app: Any, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"copilot.bench"), (b"x-request-id", b"bench-0001")],
        "client": ("127.0.0.1", 50000),
        "server": ("copilot.bench", 80),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def throughput(app: Any, requests: int) -> float:
    """Requests per CPU-second of this process.

    The audit writer stores each round's records afterwards, untimed, so that its batch inserts
    never land in the other variant's round.
    """
    started = time.process_time()
    for _ in range(requests):
        await call(app, "/healthz")
    elapsed = time.process_time() - started
    await app.state.audit_writer.flush()
    return requests / max(elapsed, 1e-9)


async def measure(requests: int, rounds: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="metrics-bench-") as tmp:
        workdir = Path(tmp)
        previous = Path.cwd()
        os.chdir(workdir)  # the audit writer may spill to ./var
        try:
            async with running_app(workdir, True) as with_app, running_app(workdir, False) as without_app:
                assert await call(with_app, "/healthz") == 200 and await call(without_app, "/healthz") == 200
                await throughput(with_app, requests // 5)  # warm-up
                await throughput(without_app, requests // 5)
                with_rates, without_rates = [], []
                for _ in range(rounds):
                    without_rates.append(await throughput(without_app, requests))
                    with_rates.append(await throughput(with_app, requests))
        finally:
            os.chdir(previous)
    return with_rates, without_rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=21, help="rounds per variant (default 21)")
    args = parser.parse_args()
    _import_reference()

    with_rates, without_rates = asyncio.run(measure(args.requests, args.rounds))
    print(f"/healthz through the full Copilot middleware stack, {args.rounds} rounds x {args.requests} requests")
    for label, pick in (("best round", max), ("median round", statistics.median)):
        with_rps, without_rps = pick(with_rates), pick(without_rates)
        overhead = 1 - with_rps / without_rps
        per_request_us = (1 / with_rps - 1 / without_rps) * 1e6
        print(
            f"  {label:12}: without {without_rps:6.0f} req/s, with {with_rps:6.0f} req/s -> overhead "
            f"{overhead:5.1%} ({per_request_us:.1f} us of CPU per request; goal <= {GOAL_OVERHEAD:.0%}: "
            f"{'met' if overhead <= GOAL_OVERHEAD else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
