"""Replaying lab01's MLflow runs between gradings of one kit test run.

The contract suite grades lab01 on the reference and on about thirty mutants and variants; most of
them change files the student's programs never read (docs, the scorecard, release records), yet each
grading would train and register six models again. This test-only wrapper of
``graders.lab01.scenario.play`` reuses a scenario when everything the programs could read is
unchanged. It assumes the programs never read ``NOT_PROGRAM_INPUTS``: true of the reference and of
every mutant (their programs are the reference's), never assumed of a student's submission, which is
why the product code has no such switch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graders.lab01 import contract, scenario
from graders.sdk.submission import Submission
from graders.sdk.warm import WarmPython

NOT_PROGRAM_INPUTS = (
    "docs/lifecycle.md",
    "docs/iso9001-audit-checklist.md",
    "docs/versioning-strategy.md",
    "docs/mlops-tooling-comparison.md",
    contract.SCORECARD,
    contract.SCORECARD_MD,
    contract.DVC_PIPELINE,
)
NOT_PROGRAM_FOLDERS = (f"{contract.RELEASES_DIR}/", "var/")


def inputs_key(submission: Submission, python: str, registry: Any) -> str:
    """A digest of every file the programs could read, the interpreter and the registry answers."""
    digest = hashlib.sha256(f"{python}\0{registry!r}\0".encode())
    for rel in submission.walk():
        if rel in NOT_PROGRAM_INPUTS or rel.startswith(NOT_PROGRAM_FOLDERS):
            continue
        digest.update(rel.encode() + b"\0" + submission.read_bytes(rel, max_bytes=100_000_000) + b"\0")
    return digest.hexdigest()


def replaying(play: Callable[..., scenario.Scenario]) -> Callable[..., scenario.Scenario]:
    """``play`` that answers a second call with unchanged program inputs from the first."""
    played: dict[str, scenario.Scenario] = {}

    def _play(submission: Submission, python: str, workdir: Path, registry: contract.Registry) -> scenario.Scenario:
        key = inputs_key(submission, python, registry)
        if key not in played:
            played[key] = play(submission, python, workdir, registry)
        return played[key]

    return _play


class _Borrowed:
    """One grading's view of a shared warm interpreter: its runs and the cold runs among them."""

    def __init__(self, server: WarmPython) -> None:
        self._server = server
        self._first_cold = len(server.cold_runs)

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc: object) -> None:
        """The server outlives the grading; the session closes it."""

    @property
    def cold_runs(self) -> list[str]:
        return self._server.cold_runs[self._first_cold :]

    @property
    def import_seconds(self) -> float | None:
        return self._server.import_seconds

    def run_module(self, *args: Any, **kwargs: Any) -> Any:
        return self._server.run_module(*args, **kwargs)


class SharedWarmPython:
    """Stands in for ``WarmPython`` in lab01's scenario: one fork server per interpreter, preload and
    environment for the whole test run, instead of one per grading (its imports cost about 5 s of CPU).
    Each run is still a fresh fork with its own folder, environment and limits, as in a grading."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], WarmPython] = {}

    def __call__(self, python: str, preload: Any, env: Any = None) -> _Borrowed:
        key = (python, tuple(preload), tuple(sorted((env or {}).items())))
        if key not in self._servers:
            self._servers[key] = WarmPython(python, preload, env).start()
        return _Borrowed(self._servers[key])

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()
