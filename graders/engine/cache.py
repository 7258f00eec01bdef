"""A content-addressed store of lab results, for callers that grade the same trees again and again.

``capstone verify`` grades the reference, a fresh starter and every mutant and variant of every lab;
the kit's tests grade the same trees in several tests. Grading is deterministic, so a result is
reused when nothing it depends on changed: the graded tree, the lab's grader and metadata, the shared
grading code (``graders/engine``, ``graders/sdk``), the interpreter and, for a mutant or variant, its
edits and overlay files. An edit to one lab therefore re-grades that lab only.

The cache is an explicit object passed by the caller (``cached_grade``,
``mutants.grade_change(..., cache=...)``); students' ``capstone grade`` never creates one. Every
entry is the result of a real grading: a miss grades and stores, and concurrent processes asking for
the same key wait on a file lock and then read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from filelock import FileLock

from graders.engine import session
from graders.engine.labs import Lab
from graders.engine.model import GradeReport, LabResult

# Never part of what a grader reads: interpreter and test-tool caches (hypothesis's example database
# appears when the reference's own tests run) and the kit's own VCS metadata.
SKIP_DIRS = frozenset({".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"})
# The grading code every lab shares: a change here may change any lab's result.
SHARED_CODE = ("engine", "sdk")
APP_NAME = "capstone-kit"

Ignore = Callable[[str, list[str]], Iterable[str]]  # shutil.copytree's ``ignore``


# File digests by (path, inode, size, mtime): a tree looked up many times in one process (the reference,
# once per mutant) is read once, the way git's index avoids re-reading unchanged files. Like git, a file
# changed within the last RACY_NS is read every time (an edit in the same clock tick keeps its mtime).
_FILE_DIGESTS: dict[tuple[str, int, int, int], bytes] = {}
RACY_NS = 2_000_000_000


def _file_digest(path: Path) -> bytes:
    stat = path.stat()
    memo = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    found = _FILE_DIGESTS.get(memo)
    if found is None:
        found = hashlib.sha256(path.read_bytes()).digest()
        if time.time_ns() - stat.st_mtime_ns > RACY_NS:
            _FILE_DIGESTS[memo] = found
    return found


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
                digest.update(_file_digest(path))


@functools.cache
def _shared_code_digest() -> str:
    """The grading code and interpreter every result depends on (computed once per process)."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parents[1]
    for name in SHARED_CODE:
        digest.update(name.encode() + b"\0")
        _digest_tree(package / name, digest)
    return digest.hexdigest()


def user_cache_dir() -> Path:
    """Where ``capstone verify`` keeps its grades by default: the user's cache folder (XDG on Linux)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP_NAME / "grades"


class GradeCache:
    """Lab results stored as JSON files named by the digest of everything the result depends on."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def key(
        self, submission: Path, lab: Lab, python: str | None, ignore: Ignore | None = None, variant: str = ""
    ) -> str:
        """The entry of ``lab`` graded on ``submission``; ``variant`` names edits applied to a copy of it
        (a mutant), so the copy need not be made to find its entry."""
        digest = hashlib.sha256(f"{lab.id}\0{python or ''}\0{variant}\0{_shared_code_digest()}\0".encode())
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return GradeReport.from_dict({"labs": [data]}).labs[0]
        except (ValueError, KeyError, TypeError):  # a truncated or outdated entry: grade again
            return None

    @staticmethod
    def write(path: Path, result: LabResult) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result.to_dict()), encoding="utf-8")
        tmp.replace(path)


def cached_grade(
    cache: GradeCache | None, submission: Path, labs: list[Lab], python: str | None = None, jobs: int = 1
) -> GradeReport:
    """``session.grade_labs`` through ``cache``: each lab of an identical tree is graded once.

    Without a cache this is a plain grading. The entries of the labs still to grade stay locked (in
    key order: no deadlock between processes) while they are graded, together and side by side when
    ``jobs`` > 1.
    """
    root = submission.absolute()
    if cache is None:
        return session.grade_labs(root, labs, python=python, jobs=jobs)
    keys = {lab.id: cache.key(root, lab, python) for lab in labs}
    found: dict[str, LabResult] = {}
    with contextlib.ExitStack() as locks:
        in_key_order = sorted(keys.items(), key=lambda item: item[1])
        entries = {lab_id: locks.enter_context(cache.entry(key)) for lab_id, key in in_key_order}
        for lab in labs:
            hit = cache.read(entries[lab.id])
            if hit is not None:
                found[lab.id] = hit
        missing = [lab for lab in labs if lab.id not in found]
        if missing:
            fresh = session.grade_labs(root, missing, python=python, jobs=jobs)
            for lab in missing:
                found[lab.id] = fresh.lab(lab.id)
                cache.write(entries[lab.id], found[lab.id])
    return GradeReport(labs=[found[lab.id] for lab in labs], submission=str(root))
