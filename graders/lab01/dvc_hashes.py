"""DVC's data hashes, recomputed from the submission and compared with what DVC recorded.

The algorithm is DVC 3's, as documented (https://dvc.org/doc/user-guide/project-structure/internal-files)
and implemented by ``dvc-data`` (``dvc_data.hashfile``): a file's hash is the md5 of its bytes; a
folder's is the md5 of ``json.dumps(entries, sort_keys=True)`` where ``entries`` lists
``{"md5": <file md5>, "relpath": <POSIX path inside the folder>}`` for every file below it, sorted
by path, with ``.dir`` appended. The kit's tests pin it to hashes taken from DVC's own test suite
and compare it with ``dvc-data`` where that is installed.

Files are read through the submission (size caps, no links that leave the repository), so a
hostile data folder cannot make the grader read outside the repository or forever.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graders.sdk import Submission, SubmissionFileError

MAX_FILE_BYTES = 50_000_000
MAX_TOTAL_BYTES = 300_000_000
MAX_FILES = 20_000
# Folders never searched for .dvc files.
SKIP_DIRS = frozenset({".dvc", ".git", ".venv", "venv", "node_modules", "__pycache__", "var", "mlruns"})


@dataclass(frozen=True)
class Recorded:
    source: str  # "data/inspection/eval.dvc" or "dvc.lock (stage generate)"
    path: str  # repository-relative POSIX path of the output
    md5: str | None
    nfiles: int | None


@dataclass(frozen=True)
class Measured:
    md5: str
    size: int
    nfiles: int | None


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def dir_md5(entries: list[tuple[str, str]]) -> str:
    """DVC's ``.dir`` hash of ``(relpath, md5)`` pairs."""
    listing = sorted(({"md5": md5, "relpath": rel} for rel, md5 in entries), key=lambda e: e["relpath"])
    return md5_bytes(json.dumps(listing, sort_keys=True).encode("utf-8")) + ".dir"


class Budget:
    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0

    def take(self, size: int, rel: str) -> None:
        self.bytes += size
        self.files += 1
        if self.bytes > MAX_TOTAL_BYTES or self.files > MAX_FILES:
            raise SubmissionFileError(
                f"{rel}: the DVC-tracked data is over the grader's limit ({MAX_FILES:,} files, "
                f"{MAX_TOTAL_BYTES / 1e6:.0f} MB); keep large data in a DVC remote, not in git",
                rel,
            )


def measure(submission: Submission, rel: str, budget: Budget | None = None) -> Measured | None:
    """DVC's hash of a file or folder in the submission; None when it does not exist."""
    budget = budget or Budget()
    if submission.is_file(rel):
        data = submission.read_bytes(rel, max_bytes=MAX_FILE_BYTES)
        budget.take(len(data), rel)
        return Measured(md5_bytes(data), len(data), None)
    top = submission.path(rel)
    if not top.is_dir():
        return None
    entries: list[tuple[str, str]] = []
    size = 0
    for current, dirs, files in os.walk(top, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = Path(current, name)
            inner = full.relative_to(top).as_posix()
            data = submission.read_bytes(f"{rel}/{inner}", max_bytes=MAX_FILE_BYTES)
            budget.take(len(data), f"{rel}/{inner}")
            entries.append((inner, md5_bytes(data)))
            size += len(data)
    return Measured(dir_md5(entries), size, len(entries))


def _outs(data: object, where: str) -> list[dict]:
    outs = data.get("outs") if isinstance(data, dict) else None
    if outs is None:
        return []
    if not isinstance(outs, list) or not all(isinstance(o, dict) and o.get("path") for o in outs):
        raise SubmissionFileError(f"{where}: 'outs' must be a list of entries that each have a path", where)
    return outs


def _entry(out: dict, base: PurePosixPath, source: str) -> Recorded:
    path = PurePosixPath(base, str(out["path"]).rstrip("/")).as_posix() if str(base) != "." else str(out["path"])
    md5, nfiles = out.get("md5"), out.get("nfiles")
    return Recorded(
        source, path.rstrip("/"), md5 if isinstance(md5, str) else None, nfiles if isinstance(nfiles, int) else None
    )


def dvc_files(submission: Submission) -> list[str]:
    found = []
    for current, dirs, files in os.walk(submission.root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found += [Path(current, f).relative_to(submission.root).as_posix() for f in sorted(files) if f.endswith(".dvc")]
        if len(found) > 200:
            break
    return found


def recorded(submission: Submission, lock: str = "dvc.lock") -> list[Recorded]:
    """Every output recorded by ``*.dvc`` files and by ``dvc.lock``."""
    found = []
    for rel in dvc_files(submission):
        for out in _outs(submission.load_yaml(rel), rel):
            found.append(_entry(out, PurePosixPath(rel).parent, rel))
    if submission.is_file(lock):
        data = submission.load_yaml(lock)
        stages = data.get("stages") if isinstance(data, dict) else None
        for stage, body in (stages or {}).items() if isinstance(stages, dict) else []:
            for out in _outs(body, f"{lock} (stage {stage})"):
                found.append(_entry(out, PurePosixPath("."), f"{lock} (stage {stage})"))
    return found
