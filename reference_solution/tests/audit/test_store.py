"""The audit store on SQLite and on a real PostgreSQL server: writes, filters, pagination, totals."""

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from copilot.audit.records import AuditQuery, AuditRecord
from copilot.audit.store import SQLITE_ROWS_PER_STATEMENT, AuditStore
from copilot.core.database import create_db_engine, normalize_url

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


def make_records(plant: str, other_plant: str) -> list[AuditRecord]:
    out = []
    for i in range(30):
        out.append(
            AuditRecord(
                correlation_id=f"cid-{i:02d}",
                method="POST" if i % 2 else "GET",
                route="/v1/rag/query",
                path="/v1/rag/query",
                status=200 if i % 3 else 403,
                latency_ms=1.5 + i,
                user_id=f"user-{i % 3}",
                role="engineer",
                plant=plant if i % 5 else other_plant,
                equipment_id=f"{plant}-PRS-10{i % 4}" if i % 5 else None,
                ts=T0 + timedelta(minutes=i),
            )
        )
    out.append(
        AuditRecord(
            correlation_id="health",
            method="GET",
            route="/healthz",
            path="/healthz",
            status=200,
            latency_ms=0.2,
            ts=T0 + timedelta(hours=2),
        )
    )
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[AuditStore]:  # type: ignore[no-untyped-def]
    sqlite_url = f"sqlite:///{tmp_path / 'audit.db'}"
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_db_engine(url)
    audit = AuditStore(engine)
    audit.create_schema()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records"))
    yield audit
    engine.dispose()


def test_filters_pagination_and_total(store: AuditStore, plant: str, other_plant: str) -> None:
    store.write_many(make_records(plant, other_plant))
    total, page = store.query(AuditQuery(limit=10))
    assert total == 31 and len(page) == 10
    assert page[0].correlation_id == "health", "newest first"
    total, _ = store.query(AuditQuery(user_id="user-1"))
    assert total == 10
    total, page = store.query(AuditQuery(plant=plant, status=200, limit=100))
    assert total == len(page) and all(r.plant == plant and r.status == 200 for r in page)
    total, page = store.query(AuditQuery(equipment_id=f"{plant}-PRS-101", limit=100))
    assert total == len(page) > 0
    total, _ = store.query(AuditQuery(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20)))
    assert total == 10
    second = store.query(AuditQuery(limit=10, offset=10))[1]
    assert {r.correlation_id for r in second}.isdisjoint(
        {r.correlation_id for r in store.query(AuditQuery(limit=10))[1]}
    )


def test_plants_scope_hides_other_plants_but_keeps_plantless(store: AuditStore, plant: str, other_plant: str) -> None:
    store.write_many(make_records(plant, other_plant))
    total, page = store.query(AuditQuery(plants=(plant,), limit=100))
    assert total == 25  # 24 of the plant + the health check
    assert other_plant not in {r.plant for r in page}


def test_round_trip_keeps_values_and_utc(store: AuditStore, plant: str, other_plant: str) -> None:
    record = make_records(plant, other_plant)[7]
    store.write_many([record])
    _, (stored,) = store.query(AuditQuery(correlation_id=record.correlation_id))
    assert stored.ts == record.ts and stored.ts.tzinfo is not None
    assert (stored.user_id, stored.plant, stored.equipment_id, stored.latency_ms) == (
        record.user_id,
        record.plant,
        record.equipment_id,
        record.latency_ms,
    )


def test_a_batch_larger_than_one_statement_is_written_whole(store: AuditStore) -> None:
    """SQLite batches go in multi-row statements of SQLITE_ROWS_PER_STATEMENT rows: none may be lost."""
    count = 2 * SQLITE_ROWS_PER_STATEMENT + 7
    batch = [
        AuditRecord(
            correlation_id=f"bulk-{i:04d}",
            method="GET",
            route="/healthz",
            path="/healthz",
            status=200,
            latency_ms=float(i),
            ts=T0 + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    store.write_many(batch)
    total, page = store.query(AuditQuery(limit=count))
    assert total == count
    assert sorted((r.correlation_id, r.latency_ms) for r in page) == [(f"bulk-{i:04d}", float(i)) for i in range(count)]


def test_ping(store: AuditStore) -> None:
    store.ping()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
