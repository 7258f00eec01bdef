"""The worker process against real servers: PostgreSQL for the job store, Redis or the Pub/Sub
emulator for the queue. A worker killed mid-job loses nothing and the job's result is stored exactly
once; SIGTERM lets the running job finish; the real analysis runs end to end in ``python -m copilot.worker``."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from copilot.core.config import Settings
from copilot.core.database import create_db_engine
from copilot.jobs.base import JobMessage, JobQueue
from copilot.jobs.pubsub_queue import PubSubJobQueue
from copilot.jobs.redis_queue import RedisJobQueue
from copilot.jobs.store import Job, JobStore
from copilot.main import create_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PUBSUB_EMULATOR_HOST", "SYSTEMROOT")
_redis_databases = itertools.count(1)


@dataclass
class Backend:
    """A queue configuration as environment variables for the worker, and the same queue for the test."""

    env: dict[str, str]
    queue: JobQueue
    retry_after_s: float


def _redis(request: pytest.FixtureRequest) -> Backend:
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + f"/{next(_redis_databases) % 16}"
    env = {"COPILOT_QUEUE_BACKEND": "redis", "REDIS_URL": url, "COPILOT_JOB_RETRY_AFTER_S": "1"}
    return Backend(env, RedisJobQueue(url, claim_idle_s=1), 1.0)


def _pubsub(request: pytest.FixtureRequest, name: str) -> Backend:
    request.getfixturevalue("pubsub_host")
    topic, subscription = f"{name}-jobs", f"{name}-workers"
    env = {
        "COPILOT_QUEUE_BACKEND": "pubsub",
        "GOOGLE_CLOUD_PROJECT": "meridian-mfg-copilot",
        "COPILOT_PUBSUB_TOPIC": topic,
        "COPILOT_PUBSUB_SUBSCRIPTION": subscription,
        "COPILOT_JOB_RETRY_AFTER_S": "10",
    }
    project = "meridian-mfg-copilot"
    queue = PubSubJobQueue(project, topic, subscription, ack_deadline_s=10, create_missing=True)
    queue.ensure_topology()
    return Backend(env, queue, 10.0)


@pytest.fixture(params=["redis", "pubsub"])
def backend(request: pytest.FixtureRequest, unique_name: str) -> Backend:
    """Each queue backend in turn (tests that depend on the queue's redelivery)."""
    return _redis(request) if request.param == "redis" else _pubsub(request, unique_name)


@pytest.fixture
def store(postgres_url: str) -> Iterator[JobStore]:
    engine = create_db_engine(postgres_url)
    job_store = JobStore(engine)
    job_store.create_schema()
    yield job_store
    engine.dispose()


@dataclass
class Workers:
    """Starts worker subprocesses sharing one environment; kills whatever is left at the end."""

    env: dict[str, str]
    log: Path
    output: Path
    started: list[subprocess.Popen[bytes]]

    def start(self, delay_s: float = 0.0, command: list[str] | None = None) -> subprocess.Popen[bytes]:
        env = {**self.env, "TEST_ANALYSIS_DELAY_S": str(delay_s)}
        with self.output.open("ab") as out:
            proc = subprocess.Popen(
                command or [sys.executable, str(WORKER_SCRIPT)],
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(proc)
        return proc

    def events(self) -> list[tuple[str, str, int]]:
        if not self.log.exists():
            return []
        lines = [line.split() for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [(event, job_id, int(pid)) for event, job_id, pid in lines]

    def tail(self) -> str:
        return self.output.read_text(errors="replace")[-3000:] if self.output.exists() else ""


@pytest.fixture
def workers(tmp_path: Path, postgres_url: str, backend: Backend, heartbeat: Path) -> Iterator[Workers]:
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update(
        {
            "COPILOT_ENV": "test",
            "DATABASE_URL": postgres_url,
            "COPILOT_DATA_DIR": str(REPO / "data"),
            "COPILOT_PLANT_CONFIG": str(REPO / "config" / "plant.yaml"),
            "COPILOT_MODEL_URI": str(REPO / "models" / "inspection-cnn.pt"),
            "COPILOT_SECRETS_DIR": str(tmp_path / "no-secrets"),
            "COPILOT_JOB_WORKERS": "1",
            "COPILOT_WORKER_HEARTBEAT": str(heartbeat),
            "LOG_LEVEL": "INFO",
            "TEST_ANALYSIS_LOG": str(tmp_path / "analysis.log"),
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
            **backend.env,
        }
    )
    group = Workers(env, tmp_path / "analysis.log", tmp_path / "workers.out", [])
    yield group
    for proc in group.started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


async def wait_for(condition: Callable[[], bool], timeout: float, what: str, workers: Workers) -> None:
    try:
        with anyio.fail_after(timeout):
            while not condition():
                await anyio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout:g} s waiting for {what}; worker output:\n{workers.tail()}")


def new_job(store: JobStore) -> Job:
    return store.create("maintenance_history", "RVB01", None, "tester", {"question": "hydraulic leaks?"})


def status(store: JobStore, job_id: str) -> str | None:
    job = store.get(job_id)
    return job.status if job else None


async def test_worker_killed_mid_job_loses_nothing_and_stores_one_result(
    backend: Backend, store: JobStore, workers: Workers
) -> None:
    first = workers.start(delay_s=60)
    job = new_job(store)
    await backend.queue.publish(JobMessage(job_id=job.id, kind=job.kind))
    await wait_for(lambda: ("start", job.id, first.pid) in workers.events(), 60, "the first worker to start", workers)

    os.killpg(first.pid, signal.SIGKILL)  # the edge host loses power mid-analysis
    first.wait(timeout=10)
    assert status(store, job.id) == "running"

    second = workers.start(delay_s=0)
    await wait_for(lambda: status(store, job.id) == "succeeded", 60 + 3 * backend.retry_after_s, "the retry", workers)
    done = store.get(job.id)
    assert done is not None and done.result == {"job_id": job.id, "worker_pid": second.pid}
    assert done.attempts == 2
    assert [e for e in workers.events() if e[1] == job.id] == [
        ("start", job.id, first.pid),
        ("start", job.id, second.pid),
        ("finish", job.id, second.pid),
    ]

    # A duplicate delivery of the finished job is acknowledged without running the analysis again.
    await backend.queue.publish(JobMessage(job_id=job.id, kind=job.kind))
    await anyio.sleep(3)
    assert len([e for e in workers.events() if e[1] == job.id]) == 3
    again = store.get(job.id)
    assert again is not None and again.result == done.result and again.updated_at == done.updated_at
    if isinstance(backend.queue, RedisJobQueue):
        client = backend.queue.client()
        assert await client.xlen(backend.queue.stream) == 0
        assert (await client.xpending(backend.queue.stream, backend.queue.group))["pending"] == 0

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0, workers.tail()
    await backend.queue.close()


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_sigterm_lets_the_running_job_finish(backend: Backend, store: JobStore, workers: Workers) -> None:
    worker = workers.start(delay_s=2)
    job = new_job(store)
    await backend.queue.publish(JobMessage(job_id=job.id, kind=job.kind))
    await wait_for(lambda: ("start", job.id, worker.pid) in workers.events(), 60, "the job to start", workers)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, workers.tail()
    finished = store.get(job.id)
    assert finished is not None and finished.status == "succeeded" and finished.attempts == 1
    await backend.queue.close()


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_api_enqueues_and_python_m_copilot_worker_runs_the_analysis(
    backend: Backend,
    workers: Workers,
    heartbeat: Path,
    settings: Settings,
    postgres_url: str,
    auth: Callable[..., dict[str, str]],
    plant: str,
    equipment: str,
) -> None:
    """The compose topology in one test: the API only enqueues, the separate worker runs the analysis."""
    worker = workers.start(command=[sys.executable, "-m", "copilot.worker"])
    api_settings = settings.model_copy(
        update={
            "database_url": postgres_url,
            "queue_backend": "redis",
            "redis_url": backend.env["REDIS_URL"],
            "inprocess_worker": False,
        }
    )
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://copilot.test") as client:
            ready = await client.get("/readyz")
            assert ready.json()["checks"]["queue"] == "ok"
            accepted = await client.post("/v1/analyses", json={"plant": plant, "equipment": equipment}, headers=auth())
            assert accepted.status_code == 202, accepted.text
            url = accepted.json()["status_url"]
            body: dict[str, Any] = {}
            with anyio.fail_after(120):
                while body.get("status") not in ("succeeded", "failed"):
                    await anyio.sleep(0.2)
                    body = (await client.get(url, headers=auth())).json()
    assert body["status"] == "succeeded", (body, workers.tail())
    assert body["result"]["equipment"]["id"] == equipment and body["result"]["summary"]["answer"]

    healthcheck = [sys.executable, "-m", "copilot.worker", "--healthcheck"]
    assert subprocess.run(healthcheck, env=workers.env, cwd=REPO, check=False).returncode == 0
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, workers.tail()
    assert not heartbeat.exists()
    unhealthy = subprocess.run(healthcheck, env=workers.env, cwd=REPO, check=False, capture_output=True, text=True)
    assert unhealthy.returncode == 1 and "heartbeat" in unhealthy.stderr
    await backend.queue.close()
