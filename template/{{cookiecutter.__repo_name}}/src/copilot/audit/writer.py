"""Moving audit records off the request path without losing any.

Requests hand their record to a bounded in-memory queue and return; one background task drains
the queue in batches and writes each batch in a worker thread. The queue is bounded so a slow
database slows requests down (back-pressure) instead of growing memory without limit; nothing is
dropped.

Failures, and what each one does:

* A batch the database refuses is written again record by record, so one record the database
  cannot take never takes the others with it. If the others go in, the refused one is appended to
  the *rejected* file (``<spill>.rejected.jsonl``) and counted; an alert fires on that counter.
* A database that stays unreachable: after the retries the batch is appended to the JSON-lines
  *spill* file, and the writer replays that file into the database (one transaction, then the file
  is removed) as soon as writes succeed again, and at start-up.
* The spill file cannot be written either (read-only or full disk): the batch stays in memory and
  is retried with back-off; the queue fills and requests wait for room instead of being served
  without a record.
* The writer task itself raises: a supervisor restarts it with the batch it was holding.

``status()`` says which of these is happening (``/readyz`` reports it and fails while the trail is
not healthy) and ``stats()`` feeds the ``copilot_audit_*`` metrics. ``close()`` drains everything
before the process exits; records that can go nowhere by then are written to the log as a last resort.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import anyio

from common.logging import get_logger
from copilot.audit.records import AuditRecord
from copilot.audit.store import AuditStore

log = get_logger(__name__)
_STOP = object()
_RECORD_FIELDS = frozenset(f.name for f in fields(AuditRecord))
MAX_BACKOFF_S = 5.0


def record_to_line(record: AuditRecord) -> str:
    # ensure_ascii: a lone surrogate from a client survives the file as an escape instead of failing the write.
    return json.dumps(record.as_dict(), ensure_ascii=True) + "\n"


def record_from_line(line: str) -> AuditRecord:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    data = {k: v for k, v in data.items() if k in _RECORD_FIELDS and k != "id"}
    data["ts"] = datetime.fromisoformat(data["ts"])
    return AuditRecord(**data)


class AuditWriter:
    def __init__(
        self,
        max_queue: int = 10_000,
        batch_size: int = 500,
        spill_path: Path | None = None,
        retry_delays_s: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0, 2.0),
        linger_s: float = 0.02,
        replay_every_s: float = 5.0,
        close_timeout_s: float = 15.0,
    ) -> None:
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.spill_path = spill_path
        self.retry_delays_s = retry_delays_s
        self.linger_s = linger_s
        self.replay_every_s = replay_every_s
        self.close_timeout_s = close_timeout_s
        self._store: AuditStore | None = None
        self._queue: asyncio.Queue[object] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: list[AuditRecord] = []
        self._inflight: tuple[list[AuditRecord], int] | None = None  # a batch not yet durable, its queue items
        self._stopping = False
        self._close_deadline = float("inf")
        self.problem: str | None = None  # why the trail is not healthy right now
        self.spill_pending = 0  # records in spill files, waiting to be replayed into the database
        self.written = 0
        self.spilled = 0
        self.replayed = 0
        self.rejected = 0
        self.restarts = 0

    # -- paths -------------------------------------------------------------------------------------
    @property
    def replay_path(self) -> Path | None:
        return self.spill_path.with_name(self.spill_path.name + ".replaying") if self.spill_path else None

    @property
    def rejected_path(self) -> Path | None:
        return self.spill_path.with_name(self.spill_path.stem + ".rejected.jsonl") if self.spill_path else None

    # -- state -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def status(self) -> str:
        """``ok``, or what is wrong with the trail (``/readyz`` shows it)."""
        if not self.running:
            return "stopped: records are not being written"
        if self.problem:
            return self.problem
        if self.spill_pending:
            return f"{self.spill_pending} records spilled, waiting to be replayed into the database"
        return "ok"

    def stats(self) -> dict[str, float]:
        """Numbers for the ``copilot_audit_*`` metrics."""
        return {
            "up": 1.0 if self.status() == "ok" else 0.0,
            "queued": float(self._queue.qsize()) if self._queue is not None else float(len(self._pending)),
            "spill_pending": float(self.spill_pending),
            "written": float(self.written),
            "spilled": float(self.spilled),
            "replayed": float(self.replayed),
            "rejected": float(self.rejected),
            "restarts": float(self.restarts),
        }

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self, store: AuditStore) -> None:
        self._store = store
        self._stopping = False
        self._close_deadline = float("inf")
        self._queue = asyncio.Queue(maxsize=self.max_queue)
        self.spill_pending = await anyio.to_thread.run_sync(self._count_spilled)
        self._task = asyncio.create_task(self._supervise(), name="audit-writer")
        for record in self._pending:  # records submitted before start (no lifespan yet)
            await self._queue.put(record)
        self._pending.clear()

    async def submit(self, record: AuditRecord) -> None:
        """Queue a record; waits for room when the queue is full, never drops it."""
        queue = self._queue
        if queue is None or not self.running:
            self._pending.append(record)
            return
        try:
            queue.put_nowait(record)  # no suspension: a request cancelled here still leaves its record
        except asyncio.QueueFull:
            await queue.put(record)

    def submit_nowait(self, record: AuditRecord) -> None:
        """Hand over a record without ever waiting (liveness probes): a full queue's overflow is kept
        aside and written with the next batch."""
        queue = self._queue
        if queue is not None and self.running:
            try:
                queue.put_nowait(record)
                return
            except asyncio.QueueFull:
                pass
        self._pending.append(record)

    async def flush(self) -> None:
        """Wait until every record submitted so far is durable (tests, graceful shutdown)."""
        if self._queue is not None and self.running:
            await self._queue.join()

    async def close(self) -> None:
        """Write everything still queued, then stop the background task."""
        if self._queue is None or self._task is None:
            return
        self._close_deadline = asyncio.get_running_loop().time() + self.close_timeout_s
        if self.running:
            self._stopping = True
            await self._queue.put(_STOP)
            await self._task
        self._task = None
        if self._pending:
            await self._persist(list(self._pending))
            self._pending.clear()

    # -- the background task -----------------------------------------------------------------------
    async def _supervise(self) -> None:
        """Run the drain loop; restart it with the batch it held whenever it raises."""
        assert self._queue is not None
        failures = 0
        while True:
            try:
                if self._inflight is not None:
                    batch, items = self._inflight
                    await self._persist(batch)
                    self._inflight = None
                    for _ in range(items):
                        self._queue.task_done()
                await self._drain()
                return
            except Exception as exc:
                failures += 1
                self.restarts += 1
                self.problem = f"audit writer restarted after {type(exc).__name__}"
                log.exception("audit writer failed, restarting", restarts=self.restarts)
                await asyncio.sleep(min(MAX_BACKOFF_S, 0.05 * 2 ** min(failures, 8)))

    async def _next(self, queue: asyncio.Queue[object]) -> object:
        """The next queued item; while spilled records wait, replay them whenever the queue is idle."""
        while self.spill_pending and not self._stopping:
            try:
                return await asyncio.wait_for(queue.get(), self.replay_every_s)
            except asyncio.TimeoutError:
                await self._replay()
        return await queue.get()

    async def _drain(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            items = [await self._next(queue)]
            if self.linger_s and not self._stopping and queue.qsize() < self.batch_size:
                # Let a batch gather: one transaction for many records costs far less than one each.
                await asyncio.sleep(self.linger_s)
            while len(items) < self.batch_size:
                try:
                    items.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            batch: list[AuditRecord] = [item for item in items if isinstance(item, AuditRecord)]
            if self._pending:  # records handed over while the queue was full
                batch.extend(self._pending)
                self._pending.clear()
            self._inflight = (batch, len(items))
            await self._persist(batch)
            self._inflight = None
            for _ in items:
                queue.task_done()
            if self.spill_pending and self.problem is None:
                await self._replay()  # the database takes writes again
            if self._stopping and queue.empty():
                return

    # -- making a batch durable --------------------------------------------------------------------
    async def _persist(self, batch: list[AuditRecord]) -> None:
        """Return only once every record is in the database, the spill file or the rejected file."""
        failures = 0
        while batch:
            batch = await self._store_batch(batch)
            if not batch or await self._append(self.spill_path, batch, "spilled"):
                return
            failures += 1
            self.problem = "audit records can be neither written to the database nor spilled to a file"
            if self._stopping and asyncio.get_running_loop().time() > self._close_deadline:
                for record in batch:  # the log is the last durable place left
                    log.error("audit record not stored", record=record.as_dict())
                return
            await asyncio.sleep(min(MAX_BACKOFF_S, 0.1 * 2 ** min(failures, 6)))

    async def _store_batch(self, batch: list[AuditRecord]) -> list[AuditRecord]:
        """Write ``batch``; the records still unwritten after the retries (the database is down)."""
        store = self._store
        for attempt, delay in enumerate((0.0, *self.retry_delays_s)):
            if delay:
                await asyncio.sleep(delay)
            try:
                if store is None:
                    raise RuntimeError("audit store not started")
                await anyio.to_thread.run_sync(store.write_many, batch)
            except Exception as exc:  # a database outage must not kill the writer
                log.warning("audit write failed", attempt=attempt + 1, records=len(batch), error=str(exc))
            else:
                self.written += len(batch)
                self.problem = None
                return []
            if attempt == 0 and store is not None and len(batch) > 1 and await self._reachable(store):
                # The database answers yet refused the batch: find the record it refuses.
                failed = await anyio.to_thread.run_sync(write_each, store, batch)
                self.written += len(batch) - len(failed)
                if len(failed) < len(batch):
                    # The database works; what it still refuses would be refused forever.
                    if failed:
                        await self._reject(failed)
                    self.problem = None
                    return []
        self.problem = "audit database writes failing"
        return batch

    @staticmethod
    async def _reachable(store: AuditStore) -> bool:
        ping = getattr(store, "ping", None)
        if ping is None:
            return True
        try:
            await anyio.to_thread.run_sync(ping)
        except Exception:
            return False
        return True

    async def _reject(self, records: list[AuditRecord]) -> None:
        log.error("audit records refused by the database", records=len(records), path=str(self.rejected_path))
        if not await self._append(self.rejected_path, records, "rejected"):
            for record in records:
                log.error("audit record not stored", record=record.as_dict())
            self.rejected += len(records)

    async def _append(self, path: Path | None, records: list[AuditRecord], outcome: str) -> bool:
        """Append ``records`` to a JSON-lines file, fsynced; False when that is impossible."""
        if path is None:
            return False
        try:
            await anyio.to_thread.run_sync(_append_lines, path, records)
        except OSError as exc:
            log.error("audit records could not be written to file", path=str(path), error=str(exc))
            return False
        if outcome == "spilled":
            self.spilled += len(records)
            self.spill_pending += len(records)
            log.error("audit records spilled to file", records=len(records), path=str(path))
        else:
            self.rejected += len(records)
        return True

    # -- replaying the spill file ------------------------------------------------------------------
    def _count_spilled(self) -> int:
        total = 0
        for path in (self.replay_path, self.spill_path):
            try:
                if path is not None and path.exists():
                    with path.open("rb") as fh:
                        total += sum(1 for _ in fh)
            except OSError as exc:  # an unreadable spill folder must not stop the service from starting
                log.error("audit spill file unreadable", path=str(path), error=str(exc))
        return total

    async def _replay_each(self, store: AuditStore, replaying: Path) -> bool:
        """Replay a file the database refused as a whole, record by record, when the database is up."""
        try:
            await anyio.to_thread.run_sync(store.ping)
            records, unreadable = await anyio.to_thread.run_sync(_read_lines, replaying)
            failed = await anyio.to_thread.run_sync(write_each, store, records)
        except Exception:
            return False
        self.replayed += len(records) - len(failed)
        if failed:
            await self._reject(failed)
        if unreadable:
            self._reject_lines(unreadable)
        replaying.unlink()
        self.spill_pending = await anyio.to_thread.run_sync(self._count_spilled)
        return True

    def _reject_lines(self, lines: list[str]) -> None:
        log.error("unreadable lines in the audit spill file", lines=len(lines))
        self.rejected += len(lines)
        rejected = self.rejected_path
        try:
            if rejected is None:
                raise OSError("no spill folder configured")
            with rejected.open("a", encoding="utf-8") as fh:
                fh.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
        except OSError:
            for line in lines:
                log.error("audit spill line not stored", line=line[:4096])

    async def _replay(self) -> None:
        """Move spilled records into the database: all of a file in one transaction, then remove it."""
        store, spill, replaying = self._store, self.spill_path, self.replay_path
        if store is None or spill is None or replaying is None:
            return
        try:
            if not replaying.exists():
                if not spill.exists():
                    self.spill_pending = 0
                    return
                spill.rename(replaying)  # new spills go to a fresh file meanwhile
            records, unreadable = await anyio.to_thread.run_sync(_read_lines, replaying)
            await anyio.to_thread.run_sync(store.write_many, records)
        except Exception as exc:
            log.warning("audit spill replay failed", error=str(exc), path=str(replaying))
            await self._replay_each(store, replaying)
            return
        if unreadable:
            self._reject_lines(unreadable)
        replaying.unlink()
        self.replayed += len(records)
        self.spill_pending = await anyio.to_thread.run_sync(self._count_spilled)
        log.info("audit spill replayed", records=len(records))


def write_each(store: AuditStore, records: list[AuditRecord]) -> list[AuditRecord]:
    """Write record by record, one transaction each, so one the database refuses takes no other with it."""
    failed: list[AuditRecord] = []
    for record in records:
        try:
            store.write_many([record])
        except Exception:
            failed.append(record)
    return failed


def _append_lines(path: Path, records: list[AuditRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as fh:
        fh.writelines(record_to_line(record) for record in records)
        fh.flush()
        os.fsync(fh.fileno())


def _read_lines(path: Path) -> tuple[list[AuditRecord], list[str]]:
    records: list[AuditRecord] = []
    unreadable: list[str] = []
    with path.open(encoding="ascii", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                records.append(record_from_line(line))
            except (ValueError, TypeError, KeyError):
                unreadable.append(line)
    return records, unreadable
