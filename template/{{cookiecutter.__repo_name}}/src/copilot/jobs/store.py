"""The job store: every analysis job's request, status and result, in the service database.

The API and any worker process share it through ``DATABASE_URL``. Status moves only forward
(queued -> running -> succeeded | failed), and completing a job is a conditional update, so a
message delivered twice cannot overwrite a stored result: results are idempotent by job id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, func, insert, select, update

JobStatus = Literal["queued", "running", "succeeded", "failed"]
FINAL_STATUSES = ("succeeded", "failed")

metadata = MetaData()
analysis_jobs = Table(
    "analysis_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("plant", String(16), nullable=False, index=True),
    Column("equipment_id", String(64)),
    Column("requested_by", String(128), nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    status: JobStatus
    plant: str
    equipment_id: str | None
    requested_by: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        plant=row["plant"],
        equipment_id=row["equipment_id"],
        requested_by=row["requested_by"],
        params=json.loads(row["params"]),
        result=json.loads(row["result"]) if row["result"] else None,
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"].replace(tzinfo=timezone.utc),
        updated_at=row["updated_at"].replace(tzinfo=timezone.utc),
    )


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        metadata.create_all(self.engine, checkfirst=True)

    def create(self, kind: str, plant: str, equipment_id: str | None, requested_by: str, params: dict[str, Any]) -> Job:
        now = _now()
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                insert(analysis_jobs).values(
                    id=job_id,
                    kind=kind,
                    status="queued",
                    plant=plant,
                    equipment_id=equipment_id,
                    requested_by=requested_by,
                    params=json.dumps(params),
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(analysis_jobs).where(analysis_jobs.c.id == job_id)).mappings().first()
        return _job(row) if row else None

    def mark_running(self, job_id: str) -> bool:
        """Claim the job for a run; False when it already finished (a duplicate delivery)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(analysis_jobs)
                .where(analysis_jobs.c.id == job_id, analysis_jobs.c.status.not_in(FINAL_STATUSES))
                .values(status="running", attempts=analysis_jobs.c.attempts + 1, updated_at=_now())
            )
        return result.rowcount == 1

    def _finish(self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> bool:
        with self.engine.begin() as conn:
            outcome = conn.execute(
                update(analysis_jobs)
                .where(analysis_jobs.c.id == job_id, analysis_jobs.c.status.not_in(FINAL_STATUSES))
                .values(
                    status=status,
                    result=json.dumps(result) if result is not None else None,
                    error=error,
                    updated_at=_now(),
                )
            )
        return outcome.rowcount == 1

    def complete(self, job_id: str, result: dict[str, Any]) -> bool:
        """Store the result once; False when the job already had a final status."""
        return self._finish(job_id, "succeeded", result, None)

    def fail(self, job_id: str, error: str) -> bool:
        return self._finish(job_id, "failed", None, error)

    def count_queued(self) -> int:
        """Jobs accepted but not yet picked up by a worker (the copilot_queue_depth metric, Lab 04)."""
        query = select(func.count()).select_from(analysis_jobs).where(analysis_jobs.c.status == "queued")
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def unfinished(self, limit: int = 1000) -> list[Job]:
        """Jobs a crash may have left behind (re-published at startup)."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(analysis_jobs)
                    .where(analysis_jobs.c.status.not_in(FINAL_STATUSES))
                    .order_by(analysis_jobs.c.created_at)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [_job(r) for r in rows]
