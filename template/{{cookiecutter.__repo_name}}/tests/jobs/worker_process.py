"""The real worker loop with an analysis the tests can watch and slow down (run as a subprocess).

Settings come from the environment like ``python -m copilot.worker``; the analysis appends
``start``/``finish`` lines with the job id and its process id to ``TEST_ANALYSIS_LOG`` and sleeps
``TEST_ANALYSIS_DELAY_S`` in between, so a test can kill the worker in the middle of a job.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from copilot.core.config import Settings
from copilot.jobs.store import Job
from copilot.worker import run_worker


def _log(event: str, job: Job) -> None:
    with Path(os.environ["TEST_ANALYSIS_LOG"]).open("a", encoding="utf-8") as fh:
        fh.write(f"{event} {job.id} {os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())


async def analyze(job: Job) -> dict[str, Any]:
    _log("start", job)
    await asyncio.sleep(float(os.environ.get("TEST_ANALYSIS_DELAY_S", "0")))
    _log("finish", job)
    return {"job_id": job.id, "worker_pid": os.getpid()}


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_worker(Settings(), analyze=analyze, stop=stop)


if __name__ == "__main__":
    asyncio.run(main())
