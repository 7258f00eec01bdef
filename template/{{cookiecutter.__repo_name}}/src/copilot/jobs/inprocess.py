"""The in-process queue backend: an asyncio queue consumed by tasks in the API process.

For a laptop and for tests: nothing to install. Messages do not survive a restart, but the job
store does: a job left ``queued`` or ``running`` by a crash is re-published at startup
(``JobService.recover``), which the idempotent runner makes safe.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from common.logging import get_logger
from copilot.jobs.base import Handler, JobMessage, JobQueue

if TYPE_CHECKING:
    from copilot.core.config import Settings

log = get_logger(__name__)


class InProcessJobQueue(JobQueue):
    backend = "inprocess"

    def __init__(self, max_size: int = 1000) -> None:
        self.max_size = max_size
        self._queue: asyncio.Queue[JobMessage] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> InProcessJobQueue:
        return cls()

    def _q(self) -> asyncio.Queue[JobMessage]:
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=self.max_size)
        return self._queue

    async def publish(self, message: JobMessage) -> None:
        await self._q().put(message)

    async def consume(self, handler: Handler) -> None:
        queue = self._q()
        while True:
            message = await queue.get()
            try:
                await handler(message)  # the handler stores the result before we move on (ack)
            except asyncio.CancelledError:
                queue.put_nowait(message)  # shutting down mid-job: leave it for recovery
                raise
            except Exception as exc:
                log.error("analysis job failed in handler", job_id=message.job_id, error=str(exc))
            finally:
                queue.task_done()

    async def join(self) -> None:
        """Wait until every published message was handled (tests)."""
        await self._q().join()

    def depth(self) -> int:
        return self._q().qsize()
