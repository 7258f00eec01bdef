"""SQL storage of audit records (SQLite by default, PostgreSQL via ``DATABASE_URL``).

Methods are synchronous: the writer and the API call them from worker threads. Timestamps are
stored as naive UTC so the same queries work on both databases.

Every value is made storable before it reaches the driver, whatever a client sent: text is cut to
its column's length, characters no database encoding accepts (lone surrogates, NUL) are replaced,
and a plant or equipment claim that is not well formed becomes ``"invalid"``. One hostile request
therefore cannot fail the transaction that carries other users' records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from common.config import EQUIPMENT_ID_PATTERN, PLANT_CODE_PATTERN
from copilot.audit.records import INVALID_CLAIM, AuditQuery, AuditRecord

metadata = MetaData()
audit_records = Table(
    "audit_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ts", DateTime(), nullable=False, index=True),
    Column("correlation_id", String(128), nullable=False, index=True),
    Column("user_id", String(128), index=True),
    Column("role", String(32)),
    Column("plant", String(16), index=True),
    Column("equipment_id", String(64), index=True),
    Column("method", String(16), nullable=False),
    Column("route", String(256), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("status", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
)

MAX_PAGE = 500
INSERT_COLUMNS = (
    "ts",
    "correlation_id",
    "user_id",
    "role",
    "plant",
    "equipment_id",
    "method",
    "route",
    "path",
    "status",
    "latency_ms",
)
# How SQLAlchemy stores DateTime in SQLite (so rows written here read back as datetimes).
SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"


_PLANT = re.compile(PLANT_CODE_PATTERN)
_EQUIPMENT = re.compile(EQUIPMENT_ID_PATTERN)


def storable(value: object, limit: int) -> str:
    """``value`` as text every database stores: at most ``limit`` characters, valid UTF-8, no NUL."""
    text_value = value if isinstance(value, str) else str(value)
    if not text_value.isascii():
        text_value = text_value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    if "\x00" in text_value:
        text_value = text_value.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return text_value[:limit]


def storable_claim(value: str | None, pattern: re.Pattern[str]) -> str | None:
    """A plant or equipment claim as stored: well formed, or the ``invalid`` category."""
    if value is None:
        return None
    return value if isinstance(value, str) and pattern.match(value) else INVALID_CLAIM


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value = value.astimezone(timezone.utc)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable UTC instant
            return datetime.min if value.year == datetime.min.year else datetime.max
        value = value.replace(tzinfo=None)
    return value


# SQLite's oldest default limit is 999 bound parameters per statement.
SQLITE_ROWS_PER_STATEMENT = 999 // len(INSERT_COLUMNS)


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        columns = ", ".join(INSERT_COLUMNS)
        self._row_markers = "(" + ", ".join(marker for _ in INSERT_COLUMNS) + ")"
        self._insert_prefix = f"INSERT INTO audit_records ({columns}) VALUES "
        self._insert_sql = self._insert_prefix + self._row_markers

    def create_schema(self) -> None:
        metadata.create_all(self.engine, checkfirst=True)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def write_many(self, records: Sequence[AuditRecord]) -> None:
        """Insert a batch in one transaction (all or nothing, so a retry never duplicates)."""
        if not records:
            return
        # One row per request makes this the service's hottest write: rows go to the driver's
        # executemany as plain tuples, without SQLAlchemy's per-row parameter processing.
        sqlite = self.engine.dialect.name == "sqlite"
        rows = [self._row(r, sqlite) for r in records]
        with self.engine.begin() as conn:
            if not sqlite:
                conn.exec_driver_sql(self._insert_sql, rows)
                return
            # SQLite: one multi-row INSERT per chunk, not executemany. The sqlite3 module releases
            # the GIL around every row of an executemany, and under load the event loop and this
            # thread then hand the GIL back and forth: /healthz served 5,000 req/s that way and
            # 11,000 req/s with multi-row statements (benchmarks/service_bench.py).
            for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
                chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
                sql = self._insert_prefix + ", ".join([self._row_markers] * len(chunk))
                conn.exec_driver_sql(sql, tuple(value for row in chunk for value in row))

    @staticmethod
    def _row(r: AuditRecord, sqlite: bool) -> tuple[object, ...]:
        ts = _naive_utc(r.ts)
        return (
            ts.strftime(SQLITE_TIMESTAMP) if sqlite else ts,
            storable(r.correlation_id, 128),
            None if r.user_id is None else storable(r.user_id, 128),
            None if r.role is None else storable(r.role, 32),
            storable_claim(r.plant, _PLANT),
            storable_claim(r.equipment_id, _EQUIPMENT),
            storable(r.method, 16),
            storable(r.route, 256),
            storable(r.path, 2048),
            int(r.status),
            float(r.latency_ms),
        )

    def _conditions(self, query: AuditQuery) -> list[ColumnElement[bool]]:
        t = audit_records.c
        conditions: list[ColumnElement[bool]] = []
        if query.user_id is not None:
            conditions.append(t.user_id == query.user_id)
        if query.equipment_id is not None:
            conditions.append(t.equipment_id == query.equipment_id)
        if query.plant is not None:
            conditions.append(t.plant == query.plant)
        if query.correlation_id is not None:
            conditions.append(t.correlation_id == query.correlation_id)
        if query.status is not None:
            conditions.append(t.status == query.status)
        if query.since is not None:
            conditions.append(t.ts >= _naive_utc(query.since))
        if query.until is not None:
            conditions.append(t.ts < _naive_utc(query.until))
        if query.plant_claim == "none":
            conditions.append(t.plant.is_(None))
        elif query.plant_claim == "invalid":
            conditions.append(t.plant == INVALID_CLAIM)
        elif query.plant_claim == "unknown":
            conditions.append(and_(t.plant != INVALID_CLAIM, t.plant.not_in(query.known_plants)))
        if query.plants is not None:
            visible = [t.plant.is_(None), t.plant.in_(query.plants)]
            if query.known_plants:
                visible.append(t.plant.not_in(query.known_plants))  # no plant's records: every admin's
            conditions.append(or_(*visible))
        return conditions

    def query(self, query: AuditQuery) -> tuple[int, list[AuditRecord]]:
        """The total number of matching records and one page of them, newest first."""
        where = and_(*self._conditions(query)) if self._conditions(query) else None
        count = select(func.count()).select_from(audit_records)
        page = select(audit_records).order_by(audit_records.c.ts.desc(), audit_records.c.id.desc())
        if where is not None:
            count = count.where(where)
            page = page.where(where)
        page = page.limit(min(max(query.limit, 1), MAX_PAGE)).offset(max(query.offset, 0))
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = conn.execute(page).mappings().all()
        return total, [_record(row) for row in rows]


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        ts=row["ts"].replace(tzinfo=timezone.utc),
        correlation_id=row["correlation_id"],
        user_id=row["user_id"],
        role=row["role"],
        plant=row["plant"],
        equipment_id=row["equipment_id"],
        method=row["method"],
        route=row["route"],
        path=row["path"],
        status=row["status"],
        latency_ms=row["latency_ms"],
    )
