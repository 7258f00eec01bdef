"""The job store: forward-only status, results stored once per job id."""

import pytest

from copilot.core.database import create_db_engine
from copilot.jobs.store import JobStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> JobStore:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'jobs.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    jobs = JobStore(create_db_engine(url))
    jobs.create_schema()
    return jobs


def test_lifecycle(store: JobStore, plant: str) -> None:
    job = store.create("maintenance_history", plant, None, "u1", {"question": "why?"})
    assert job.status == "queued" and job.params == {"question": "why?"} and len(job.id) == 32
    assert store.mark_running(job.id)
    assert store.complete(job.id, {"answer": 42})
    stored = store.get(job.id)
    assert stored is not None and stored.status == "succeeded" and stored.result == {"answer": 42}
    assert stored.attempts == 1


def test_a_duplicate_delivery_cannot_overwrite_the_result(store: JobStore, plant: str) -> None:
    job = store.create("maintenance_history", plant, None, "u1", {})
    store.mark_running(job.id)
    store.complete(job.id, {"first": True})
    assert not store.mark_running(job.id)
    assert not store.complete(job.id, {"second": True})
    assert not store.fail(job.id, "late failure")
    stored = store.get(job.id)
    assert stored is not None and stored.result == {"first": True} and stored.status == "succeeded"


def test_unfinished_jobs_are_listed_for_recovery(store: JobStore, plant: str) -> None:
    done = store.create("maintenance_history", plant, None, "u", {})
    store.mark_running(done.id)
    store.complete(done.id, {})
    running = store.create("maintenance_history", plant, None, "u", {})
    store.mark_running(running.id)
    queued = store.create("maintenance_history", plant, None, "u", {})
    assert {j.id for j in store.unfinished()} == {running.id, queued.id}


def test_unknown_job(store: JobStore) -> None:
    assert store.get("f" * 32) is None
    assert not store.mark_running("f" * 32)
