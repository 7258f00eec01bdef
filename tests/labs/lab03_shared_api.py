"""One running Copilot for all of lab03's gradings in a kit test run.

lab03's HEALTHCHECK check runs the image's command against the student's API, which the grader starts
for every grading (a copy of the repository and an app import). lab03's mutants and variants change
Dockerfiles, compose files and docs, not the app, so within the kit's tests one API per distinct app
serves them all: this wrapper of ``graders.lab03.conftest.start_copilot`` keys each started API by the
digest of what the app is made of (``src/``, ``common/``, ``config/``, ``pyproject.toml``) and keeps it
running until the session ends. A student's grading always starts its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from graders.sdk.submission import Submission

APP_PARTS = ("src/", "common/", "config/", "pyproject.toml")


def app_key(submission: Submission, python: str) -> str:
    digest = hashlib.sha256(python.encode() + b"\0")
    for rel in submission.walk():
        if rel.startswith(APP_PARTS):
            digest.update(rel.encode() + b"\0" + submission.read_bytes(rel, max_bytes=100_000_000) + b"\0")
    return digest.hexdigest()


class SharedCopilot:
    """Stands in for ``start_copilot`` in lab03's conftest; ``close`` stops every API it started."""

    def __init__(self, start: Callable[..., Any]) -> None:
        self._start = start
        self._stack = contextlib.ExitStack()
        self._folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="lab03-shared-api-")))
        self._services: dict[str, Any] = {}

    @contextlib.contextmanager
    def __call__(self, submission: Submission, python: str, workdir: Path, **kwargs: Any) -> Iterator[Any]:
        key = app_key(submission, python) + repr(sorted(kwargs.items()))
        if key not in self._services:
            folder = self._folder / str(len(self._services))
            folder.mkdir()
            self._services[key] = self._stack.enter_context(self._start(submission, python, folder, **kwargs))
        yield self._services[key]

    def close(self) -> None:
        self._stack.close()
