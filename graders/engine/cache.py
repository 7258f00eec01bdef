"""A content-addressed cache of lab results, for the kit's own test runs only.

The kit's tests grade the same trees several times (the reference per lab, each mutant in its lab's
tests and again in ``capstone verify``). Grading is deterministic, so within one test session the
result for an identical tree, lab grader and interpreter can be reused. The cache is switched on
only by ``CAPSTONE_GRADE_CACHE=<folder>`` (set by the kit's test configuration); students'
``capstone grade`` never reads or writes it. Every entry is the result of a real grading: a miss
grades and stores, concurrent workers of the same key wait on a file lock and then read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from filelock import FileLock

from graders.engine.labs import Lab
from graders.engine.model import GradeReport, LabResult

ENV = "CAPSTONE_GRADE_CACHE"
# Never part of what a grader reads: interpreter caches and the kit's own VCS metadata.
SKIP_DIRS = frozenset({".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})


Ignore = Callable[[str, list[str]], Iterable[str]]  # shutil.copytree's ``ignore``


def _digest_tree(root: Path, digest: hashlib._Hash, ignore: Ignore | None = None) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        skipped = set(ignore(dirpath, dirnames + filenames)) if ignore is not None else set()
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d not in skipped)
        for name in sorted(n for n in filenames if n not in skipped):
            path = Path(dirpath) / name
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            if path.is_symlink():
                digest.update(b"->" + os.readlink(path).encode())
            elif path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())


class GradeCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls) -> GradeCache | None:
        value = os.environ.get(ENV)
        return cls(Path(value)) if value else None

    def key(
        self, submission: Path, lab: Lab, python: str | None, ignore: Ignore | None = None, variant: str = ""
    ) -> str:
        """The entry of ``lab`` graded on ``submission``; ``variant`` names edits applied to a copy of it
        (a mutant), so the copy need not be made to find its entry."""
        digest = hashlib.sha256(f"{lab.id}\0{python or ''}\0{variant}\0".encode())
        _digest_tree(submission, digest, ignore)
        grader = lab.grader_dir()
        if grader is not None:
            _digest_tree(grader, digest)
        _digest_tree(lab.directory, digest)
        return f"{lab.id}-{digest.hexdigest()[:32]}"

    @contextlib.contextmanager
    def entry(self, key: str) -> Iterator[Path]:
        """Hold the key's lock while the caller reads or fills the entry."""
        path = self.directory / f"{key}.json"
        with FileLock(str(path) + ".lock"):
            yield path

    @staticmethod
    def read(path: Path) -> LabResult | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return GradeReport.from_dict({"labs": [data]}).labs[0]

    @staticmethod
    def write(path: Path, result: LabResult) -> None:
        path.write_text(json.dumps(result.to_dict()), encoding="utf-8")
