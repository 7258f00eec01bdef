"""Moving audit records off the request path without losing any.

Requests hand their record to a bounded in-memory queue and return; one background task drains
the queue in batches and writes each batch in a worker thread. The queue is bounded so a slow
database slows requests down (back-pressure) instead of growing memory without limit; nothing is
dropped. A batch that keeps failing is appended to a JSON-lines spill file, and ``close()`` drains
everything before the process exits.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anyio

from common.logging import get_logger
from copilot.audit.records import AuditRecord
from copilot.audit.store import AuditStore

log = get_logger(__name__)
_STOP = object()


class AuditWriter:
    def __init__(
        self,
        max_queue: int = 10_000,
        batch_size: int = 500,
        spill_path: Path | None = None,
        retry_delays_s: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0, 2.0),
        linger_s: float = 0.02,
    ) -> None:
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.spill_path = spill_path
        self.retry_delays_s = retry_delays_s
        self.linger_s = linger_s
        self._store: AuditStore | None = None
        self._queue: asyncio.Queue[object] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: list[AuditRecord] = []
        self._stopping = False
        self.written = 0
        self.spilled = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, store: AuditStore) -> None:
        self._store = store
        self._stopping = False
        self._queue = asyncio.Queue(maxsize=self.max_queue)
        self._task = asyncio.create_task(self._drain(), name="audit-writer")
        for record in self._pending:  # records submitted before start (no lifespan yet)
            await self._queue.put(record)
        self._pending.clear()

    async def submit(self, record: AuditRecord) -> None:
        """Queue a record; waits for room when the queue is full, never drops it."""
        if self._queue is None or not self.running:
            self._pending.append(record)
            return
        await self._queue.put(record)

    async def flush(self) -> None:
        """Wait until every record submitted so far is written (tests, graceful shutdown)."""
        if self._queue is not None and self.running:
            await self._queue.join()

    async def close(self) -> None:
        """Write everything still queued, then stop the background task."""
        if self._queue is None or self._task is None:
            return
        if self.running:
            self._stopping = True
            await self._queue.put(_STOP)
            await self._task
        self._task = None
        if self._pending:
            await self._write(list(self._pending))
            self._pending.clear()

    async def _drain(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            items = [await queue.get()]
            if self.linger_s and not self._stopping and queue.qsize() < self.batch_size:
                # Let a batch gather: one transaction for many records costs far less than one each.
                await asyncio.sleep(self.linger_s)
            while len(items) < self.batch_size:
                try:
                    items.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            batch = [item for item in items if item is not _STOP]
            try:
                await self._write(batch)  # type: ignore[arg-type]
            finally:
                for _ in items:
                    queue.task_done()
            if self._stopping and queue.empty():
                return

    async def _write(self, batch: list[AuditRecord]) -> None:
        if not batch:
            return
        store = self._store
        for attempt, delay in enumerate((0.0, *self.retry_delays_s)):
            if delay:
                await asyncio.sleep(delay)
            try:
                if store is None:
                    raise RuntimeError("audit store not started")
                await anyio.to_thread.run_sync(store.write_many, batch)
                self.written += len(batch)
                return
            except Exception as exc:  # a database outage must not kill the writer
                log.warning("audit write failed", attempt=attempt + 1, records=len(batch), error=str(exc))
        await anyio.to_thread.run_sync(self._spill, batch)

    def _spill(self, batch: list[AuditRecord]) -> None:
        if self.spill_path is None:
            log.error("audit records lost: database unavailable and no spill file", records=len(batch))
            return
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spill_path.open("a", encoding="utf-8") as fh:
            for record in batch:
                fh.write(json.dumps(record.as_dict()) + "\n")
        self.spilled += len(batch)
        log.error("audit records spilled to file", records=len(batch), path=str(self.spill_path))
