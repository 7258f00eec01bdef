"""Session-wide real servers for the job queue and worker tests (started once, only when needed).

PostgreSQL is the ``postgres_url`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import pubsub_emulator, redis_server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def pubsub_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator's host:port, exported as PUBSUB_EMULATOR_HOST for the whole session."""
    with pubsub_emulator(tmp_path_factory.mktemp("pubsub")) as host:
        previous = os.environ.get("PUBSUB_EMULATOR_HOST")
        os.environ["PUBSUB_EMULATOR_HOST"] = host
        try:
            yield host
        finally:
            if previous is None:
                os.environ.pop("PUBSUB_EMULATOR_HOST", None)
            else:
                os.environ["PUBSUB_EMULATOR_HOST"] = previous


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A stream/topic name of this test alone, so tests sharing a server never see each other's jobs."""
    return "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name)[:60].strip("-") + f"-{os.getpid()}"


@pytest.fixture
def heartbeat(tmp_path: Path) -> Path:
    return tmp_path / "worker.heartbeat"
