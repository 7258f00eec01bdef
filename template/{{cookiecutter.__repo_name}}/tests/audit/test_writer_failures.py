"""The audit writer under failure: nothing lost, nothing duplicated, and the failure is visible."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from copilot.audit.records import AuditQuery, AuditRecord
from copilot.audit.writer import AuditWriter, record_to_line

pytestmark = pytest.mark.anyio


def record(i: int, plant: str | None = None) -> AuditRecord:
    return AuditRecord(
        correlation_id=f"c{i}", method="GET", route="/x", path="/x", status=200, latency_ms=1.0, plant=plant
    )


class FlakyStore:
    """An in-memory store that is down while ``down`` is set and refuses records marked ``poison``."""

    def __init__(self) -> None:
        self.rows: list[AuditRecord] = []
        self.down = False

    def write_many(self, records: Sequence[AuditRecord]) -> None:
        if self.down:
            raise ConnectionError("database unreachable")
        if any(r.correlation_id.startswith("poison") for r in records):
            raise ValueError("value too long for type character varying(16)")
        self.rows.extend(records)

    def ping(self) -> None:
        if self.down:
            raise ConnectionError("database unreachable")


async def wait_for(condition, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def fast_writer(spill: Path | None) -> AuditWriter:
    return AuditWriter(spill_path=spill, retry_delays_s=(0.0,), linger_s=0.0, replay_every_s=0.05)


async def test_one_refused_record_takes_no_other_with_it(tmp_path: Path) -> None:
    store = FlakyStore()
    writer = fast_writer(tmp_path / "audit-spill.jsonl")
    await writer.start(store)  # type: ignore[arg-type]
    batch = [record(i) for i in range(5)]
    batch.insert(2, AuditRecord(correlation_id="poison-1", method="GET", route="/", path="/", status=401, latency_ms=1))
    for item in batch:
        await writer.submit(item)
    await writer.close()
    assert sorted(r.correlation_id for r in store.rows) == [f"c{i}" for i in range(5)]
    rejected = (tmp_path / "audit-spill.rejected.jsonl").read_text().splitlines()
    assert [json.loads(line)["correlation_id"] for line in rejected] == ["poison-1"]
    assert writer.rejected == 1 and writer.spilled == 0


async def test_an_outage_is_spilled_then_replayed_without_loss_or_duplicates(tmp_path: Path) -> None:
    store = FlakyStore()
    spill = tmp_path / "audit-spill.jsonl"
    writer = fast_writer(spill)
    await writer.start(store)  # type: ignore[arg-type]
    store.down = True
    for i in range(20):
        await writer.submit(record(i))
    await wait_for(lambda: writer.spill_pending == 20)
    assert writer.status() != "ok" and writer.stats()["up"] == 0.0
    store.down = False
    await writer.submit(record(20))
    await wait_for(lambda: writer.spill_pending == 0)
    await writer.close()
    assert sorted(r.correlation_id for r in store.rows) == sorted(f"c{i}" for i in range(21))
    assert not spill.exists() and writer.replayed == 20 and writer.status().startswith("stopped")


async def test_an_unwritable_spill_location_keeps_records_until_the_database_returns(tmp_path: Path) -> None:
    store = FlakyStore()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spill folder should be")  # mkdir fails, as on a read-only root
    writer = fast_writer(blocker / "audit-spill.jsonl")
    await writer.start(store)  # type: ignore[arg-type]
    store.down = True
    for i in range(10):
        await writer.submit(record(i))
    await wait_for(lambda: writer.problem is not None and "neither" in writer.problem)
    assert writer.running, "the writer task must survive a failing spill file"
    assert writer.stats()["up"] == 0.0
    store.down = False
    await asyncio.wait_for(writer.flush(), 10)
    assert sorted(r.correlation_id for r in store.rows) == sorted(f"c{i}" for i in range(10))
    assert writer.status() == "ok"
    await writer.close()


async def test_a_crashed_writer_is_restarted_with_its_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FlakyStore()
    writer = fast_writer(tmp_path / "audit-spill.jsonl")
    original = writer._store_batch
    crashes = [RuntimeError("bug in the writer")]

    async def crash_once(batch: list[AuditRecord]) -> list[AuditRecord]:
        if crashes:
            raise crashes.pop()
        return await original(batch)

    monkeypatch.setattr(writer, "_store_batch", crash_once)
    await writer.start(store)  # type: ignore[arg-type]
    for i in range(3):
        await writer.submit(record(i))
    await asyncio.wait_for(writer.flush(), 10)
    assert writer.restarts == 1 and writer.running
    await writer.close()
    assert sorted(r.correlation_id for r in store.rows) == ["c0", "c1", "c2"]


async def test_records_spilled_by_an_earlier_process_are_replayed_at_start(tmp_path: Path) -> None:
    spill = tmp_path / "audit-spill.jsonl"
    spill.write_text("".join(record_to_line(record(i)) for i in range(4)) + "not json\n")
    store = FlakyStore()
    writer = fast_writer(spill)
    await writer.start(store)  # type: ignore[arg-type]
    assert writer.spill_pending == 5
    await wait_for(lambda: writer.spill_pending == 0)
    await writer.close()
    assert sorted(r.correlation_id for r in store.rows) == ["c0", "c1", "c2", "c3"]
    assert (tmp_path / "audit-spill.rejected.jsonl").read_text() == "not json\n"


@pytest.mark.slow  # about 5 s: waits for the vision model so that /readyz can turn ready again
@pytest.mark.lab("lab02")  # the requests' records come from the lab 02 middleware
async def test_readyz_reflects_an_audit_outage_and_nothing_is_lost(settings, tmp_path, plant, auth) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from copilot.main import create_app

    settings = settings.model_copy(update={"audit_spill_dir": tmp_path / "spill"})
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        writer: AuditWriter = app.state.audit_writer
        writer.retry_delays_s, writer.replay_every_s = (0.0,), 0.05
        await app.state.services.vision.wait_loaded()
        store = app.state.services.audit_store
        real_write = store.write_many
        down = {"on": False}

        def write_many(records: Sequence[AuditRecord]) -> None:
            if down["on"]:
                raise ConnectionError("database unreachable")
            real_write(records)

        store.write_many = write_many  # type: ignore[method-assign]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            down["on"] = True
            body = {"question": "How is a hydraulic leak located?", "plant": plant}
            for i in range(5):
                await http.post("/v1/rag/query", json=body, headers={**auth(sub="outage"), "X-Request-ID": f"out-{i}"})
            await wait_for(lambda: writer.spill_pending >= 5)
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and not ready.json()["checks"]["audit"].startswith("ok")
            metrics = (await http.get("/metrics")).text
            assert "copilot_audit_writer_up 0.0" in metrics
            down["on"] = False
            await wait_for(lambda: writer.spill_pending == 0 and writer.status() == "ok")
            assert (await http.get("/readyz")).status_code == 200
            await writer.flush()
        _, found = store.query(AuditQuery(user_id="outage", limit=50))
        assert sorted(r.correlation_id for r in found) == [f"out-{i}" for i in range(5)]
