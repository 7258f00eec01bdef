"""The audit writer: off the request path, back-pressure instead of loss, spill file on outages."""

import asyncio
import json
from collections.abc import Sequence

import pytest

from copilot.audit.records import AuditRecord
from copilot.audit.writer import AuditWriter

pytestmark = pytest.mark.anyio


def record(i: int) -> AuditRecord:
    return AuditRecord(correlation_id=f"c{i}", method="GET", route="/x", path="/x", status=200, latency_ms=1.0)


class MemoryStore:
    def __init__(self, fail_times: int = 0, delay_s: float = 0.0) -> None:
        self.rows: list[AuditRecord] = []
        self.fail_times = fail_times
        self.delay_s = delay_s
        self.batches = 0

    def write_many(self, records: Sequence[AuditRecord]) -> None:
        import time

        time.sleep(self.delay_s)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("database restarting")
        self.batches += 1
        self.rows.extend(records)


async def test_batches_and_loses_nothing_with_a_tiny_queue() -> None:
    store = MemoryStore(delay_s=0.002)
    writer = AuditWriter(max_queue=4, batch_size=3)
    await writer.start(store)  # type: ignore[arg-type]
    await asyncio.gather(*(writer.submit(record(i)) for i in range(200)))
    await writer.close()
    assert sorted(r.correlation_id for r in store.rows) == sorted(f"c{i}" for i in range(200))
    assert store.batches < 200, "records should be written in batches"


async def test_retries_a_failing_batch() -> None:
    store = MemoryStore(fail_times=2)
    writer = AuditWriter(retry_delays_s=(0.0, 0.0, 0.0))
    await writer.start(store)  # type: ignore[arg-type]
    await writer.submit(record(1))
    await writer.close()
    assert [r.correlation_id for r in store.rows] == ["c1"]


async def test_spills_to_a_file_when_the_database_stays_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = MemoryStore(fail_times=10**6)
    spill = tmp_path / "spill.jsonl"
    writer = AuditWriter(spill_path=spill, retry_delays_s=(0.0,))
    await writer.start(store)  # type: ignore[arg-type]
    for i in range(3):
        await writer.submit(record(i))
    await writer.close()
    lines = [json.loads(line) for line in spill.read_text().splitlines()]
    assert [line["correlation_id"] for line in lines] == ["c0", "c1", "c2"]
    assert writer.spilled == 3


async def test_records_before_start_are_kept() -> None:
    store = MemoryStore()
    writer = AuditWriter()
    await writer.submit(record(1))
    await writer.start(store)  # type: ignore[arg-type]
    await writer.close()
    assert [r.correlation_id for r in store.rows] == ["c1"]
