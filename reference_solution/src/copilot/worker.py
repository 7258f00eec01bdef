"""The analysis worker: ``python -m copilot.worker`` consumes the job queue in a process of its own.

With ``COPILOT_QUEUE_BACKEND=redis`` (compose, the plant edge) or ``pubsub`` (the cloud), the API only
enqueues analyses and one or more workers run them. A job is acknowledged only after its result is
stored (see ``copilot.jobs.base``), so a worker killed mid-job loses nothing: the queue hands the
message to another worker, and the idempotent runner stores exactly one result per job id.

On SIGTERM the worker stops taking new messages, lets the running jobs finish (compose gives it
``stop_grace_period``), then exits. While healthy it touches a heartbeat file;
``python -m copilot.worker --healthcheck`` (the container's health check) checks its age.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.core.tasks import stop_tasks

if TYPE_CHECKING:
    from copilot.core.config import Settings
    from copilot.jobs.base import JobMessage, JobQueue
    from copilot.jobs.runner import Analyze, JobRunner
    from copilot.jobs.store import JobStore

HEARTBEAT_INTERVAL_S = 5.0
HEARTBEAT_MAX_AGE_S = 60.0
DRAIN_TIMEOUT_S = 100.0  # below compose's stop_grace_period of 2 minutes


@dataclass
class Worker:
    store: JobStore
    queue: JobQueue
    runner: JobRunner
    inflight: int = 0
    draining: bool = False

    async def handle(self, message: JobMessage) -> None:
        if self.draining:
            # Shutting down: park the message unacknowledged until the consumer is cancelled, so the
            # queue hands it to another worker instead of this one pulling more.
            await asyncio.Event().wait()
        self.inflight += 1
        try:
            await self.runner.handle(message)
        finally:
            self.inflight -= 1

    async def drain(self, timeout_s: float) -> bool:
        """Stop taking messages and wait for running jobs; False when they did not finish in time."""
        self.draining = True
        deadline = time.monotonic() + timeout_s
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.inflight == 0


@contextlib.asynccontextmanager
async def open_worker(settings: Settings, analyze: Analyze | None = None) -> AsyncIterator[Worker]:
    """The job store, the queue and a runner; ``analyze`` defaults to the Copilot's analyses."""
    import anyio

    from copilot.core.database import create_db_engine
    from copilot.jobs.base import create_queue
    from copilot.jobs.runner import JobRunner
    from copilot.jobs.store import JobStore

    engine = create_db_engine(settings.database_url)
    store = JobStore(engine)
    await anyio.to_thread.run_sync(store.create_schema)
    queue = create_queue(settings)
    closers: list[Callable[[], Awaitable[Any]]] = [queue.close]
    if analyze is None:
        from copilot.jobs.analysis import AnalysisContext, run_analysis
        from copilot.rag.pipeline import RagPipeline
        from copilot.services import build_generator, load_knowledge

        _, registry, corpus, retriever = await anyio.to_thread.run_sync(load_knowledge, settings)
        generator = build_generator(settings)
        closers.append(generator.aclose)
        context = AnalysisContext(corpus=corpus, registry=registry, pipeline=RagPipeline(retriever, generator))
        analyze = partial(run_analysis, context=context)
    try:
        yield Worker(store, queue, JobRunner(store, analyze))
    finally:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                await close()
        engine.dispose()


def write_heartbeat(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{time.time():.3f}\n", encoding="utf-8")
    os.replace(tmp, path)


def heartbeat_age(path: Path) -> float | None:
    try:
        return time.time() - float(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


async def _heartbeat(path: Path, consumers: list[asyncio.Task[None]]) -> None:
    while True:
        if consumers and all(not task.done() for task in consumers):
            write_heartbeat(path)
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def run_worker(
    settings: Settings,
    analyze: Analyze | None = None,
    stop: asyncio.Event | None = None,
    drain_timeout_s: float = DRAIN_TIMEOUT_S,
) -> None:
    """Consume until ``stop`` is set (SIGTERM/SIGINT in ``main``), then drain and close."""
    from common.logging import get_logger

    log = get_logger("copilot.worker")
    if settings.queue_backend == "inprocess":
        raise SystemExit(
            "the worker consumes Redis or Pub/Sub; set COPILOT_QUEUE_BACKEND=redis (with REDIS_URL) or pubsub "
            "(the in-process queue is consumed inside the API)"
        )
    stop = stop or asyncio.Event()
    async with open_worker(settings, analyze) as worker:
        # Pub/Sub's streaming pull runs job_workers callbacks itself; Redis gets one reader per slot.
        count = 1 if worker.queue.backend == "pubsub" else settings.job_workers
        consumers = [
            asyncio.create_task(worker.queue.consume(worker.handle), name=f"consumer-{i}") for i in range(count)
        ]
        beat = asyncio.create_task(_heartbeat(settings.worker_heartbeat, consumers))
        log.info("worker started", queue=worker.queue.backend, consumers=count, env=settings.env)
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait([stopped, *consumers], return_when=asyncio.FIRST_COMPLETED)
        crashed = [t for t in consumers if t.done() and not t.cancelled() and t.exception() is not None]
        finished = await worker.drain(drain_timeout_s)
        log.info("worker stopping", finished_running_jobs=finished, crashed_consumers=len(crashed))
        if not await stop_tasks([*consumers, beat, stopped]):
            log.error("a queue consumer ignored the stop request; exiting without it")
        with contextlib.suppress(FileNotFoundError):
            settings.worker_heartbeat.unlink()
        if crashed:
            raise RuntimeError(f"a queue consumer stopped: {crashed[0].exception()!r}")


def _serve(settings: Settings) -> None:
    from prometheus_client import start_http_server

    from common.logging import get_logger
    from copilot.observability.logging import configure_service_logging

    configure_service_logging(settings)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
        get_logger("copilot.worker").info("metrics endpoint started", port=settings.metrics_port)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop=stop)

    asyncio.run(_main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m copilot.worker", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--healthcheck",
        action="store_true",
        help=f"exit 0 when the worker's heartbeat is younger than {HEARTBEAT_MAX_AGE_S:g} s (container health check)",
    )
    args = parser.parse_args(argv)
    from copilot.core.config import Settings

    settings = Settings()
    if args.healthcheck:
        age = heartbeat_age(settings.worker_heartbeat)
        if age is None or age > HEARTBEAT_MAX_AGE_S:
            state = "missing" if age is None else f"{age:.0f} s old"
            print(f"unhealthy: heartbeat {settings.worker_heartbeat} is {state}", file=sys.stderr)
            return 1
        return 0
    _serve(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
