"""Structured logging for the service and the notebooks: JSON lines with a correlation id.

Every log line carries the correlation id of the request (or notebook run) it belongs to, so one
request can be followed from the API through the worker into ELK/OpenSearch. The id lives in a
context variable: it follows the request across ``await`` and into worker threads started with
``anyio.to_thread`` (contexts are copied), without being passed around by hand.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

import structlog

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

LOG_FORMATS = ("json", "console")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    return correlation_id.get()


def bind_correlation_id(value: str | None) -> Token[str | None]:
    """Set the current correlation id; keep the token to restore the previous one."""
    return correlation_id.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    correlation_id.reset(token)


@contextlib.contextmanager
def correlation_scope(value: str | None = None) -> Iterator[str]:
    """Run a block (a notebook cell, a job) under its own correlation id."""
    cid = value or new_correlation_id()
    token = bind_correlation_id(cid)
    try:
        yield cid
    finally:
        reset_correlation_id(token)


def _add_correlation_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    cid = correlation_id.get()
    if cid is not None:
        event.setdefault("correlation_id", cid)
    return event


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Route structlog and the standard library (uvicorn, sqlalchemy) through one renderer."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"LOG_LEVEL {level!r} is not a logging level (DEBUG, INFO, WARNING, ERROR)")
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # uvicorn installs its own handlers; make its loggers propagate to ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not logger.handlers and not logger.propagate:
            continue  # switched off (uvicorn --no-access-log): keep it off
        logger.handlers.clear()
        logger.propagate = True


def get_logger(name: str | None = None) -> Any:
    return structlog.stdlib.get_logger(name)
