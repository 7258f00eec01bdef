"""Database engines for the service's records (audit trail, analysis jobs).

SQLite under ``./var/`` by default, so the Copilot runs with nothing installed; PostgreSQL when
``DATABASE_URL`` says so (``postgresql://`` URLs are served by psycopg 3). Calls are synchronous
and run in worker threads, off the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def normalize_url(url: str) -> str:
    """Pick the installed driver: ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode so readers never block the audit writer."""
    normalized = normalize_url(url)
    parsed = make_url(normalized)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(normalized, pool_pre_ping=True, pool_size=5, max_overflow=5)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        # One shared connection, or every thread would see its own empty in-memory database.
        return create_engine(normalized, poolclass=StaticPool, connect_args={"check_same_thread": False})
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(normalized, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def describe_url(url: str) -> str:
    """The URL without its password, for logs and readiness reports."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)
