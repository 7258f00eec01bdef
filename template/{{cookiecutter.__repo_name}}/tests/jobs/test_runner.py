"""The runner and the in-process queue: ack after the result is stored, idempotent by job id."""

import asyncio

import pytest

from copilot.core.config import Settings
from copilot.core.database import create_db_engine
from copilot.jobs.base import JobMessage, QueueUnavailable, create_queue
from copilot.jobs.inprocess import InProcessJobQueue
from copilot.jobs.runner import JobRunner
from copilot.jobs.service import JobService
from copilot.jobs.store import Job, JobStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path) -> JobStore:  # type: ignore[no-untyped-def]
    jobs = JobStore(create_db_engine(f"sqlite:///{tmp_path / 'jobs.db'}"))
    jobs.create_schema()
    return jobs


async def test_each_job_runs_once_even_when_delivered_twice(store: JobStore, plant: str) -> None:
    runs: list[str] = []

    async def analyze(job: Job) -> dict[str, object]:
        runs.append(job.id)
        return {"ok": True}

    runner = JobRunner(store, analyze)
    job = store.create("maintenance_history", plant, None, "u", {})
    message = JobMessage(job.id, job.kind)
    await runner.handle(message)
    await runner.handle(message)
    assert runs == [job.id]
    stored = store.get(job.id)
    assert stored is not None and stored.status == "succeeded"


async def test_a_failing_analysis_is_stored_as_failed(store: JobStore, plant: str) -> None:
    async def analyze(job: Job) -> dict[str, object]:
        raise ValueError("no documents")

    job = store.create("maintenance_history", plant, None, "u", {})
    await JobRunner(store, analyze).handle(JobMessage(job.id, job.kind))
    stored = store.get(job.id)
    assert stored is not None and stored.status == "failed" and "no documents" in (stored.error or "")


async def test_in_process_queue_end_to_end_with_recovery(store: JobStore, plant: str) -> None:
    done = asyncio.Event()

    async def analyze(job: Job) -> dict[str, object]:
        done.set()
        return {"job": job.id}

    leftover = store.create("maintenance_history", plant, None, "u", {})  # a crash left it queued
    service = JobService(store, InProcessJobQueue(), JobRunner(store, analyze))
    service.start_consumers(2)
    try:
        assert await service.recover() == 1
        fresh = await service.submit("maintenance_history", plant, None, "u", {})
        await asyncio.wait_for(service.queue.join(), 5)  # type: ignore[attr-defined]
        for job_id in (leftover.id, fresh.id):
            stored = store.get(job_id)
            assert stored is not None and stored.status == "succeeded" and stored.result == {"job": job_id}
    finally:
        await service.close()


async def test_message_round_trip() -> None:
    message = JobMessage("a" * 32, "maintenance_history", attempt=3)
    assert JobMessage.from_json(message.to_json()) == message


def test_missing_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.jobs import base

    monkeypatch.setitem(base.BACKENDS, "redis", "copilot.jobs.not_installed_queue:Nothing")
    with pytest.raises(QueueUnavailable, match="COPILOT_QUEUE_BACKEND=redis"):
        create_queue(Settings(env="test", queue_backend="redis"))
