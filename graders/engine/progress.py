"""``capstone grade --record-progress``: add each graded lab's score to the student's ``capstone-progress.csv``.

The notebooks write that file through the capstone's own ``common.progress``; graders never import
student code, so this module writes the same format itself: the columns ``lab,date,outputs,status``,
one row per lab sorted by lab id, outputs joined by ``"; "``, an upsert under the same lock file
(``<csv>.lock``, taken with ``filelock``) and an atomic replace. A notebook and the grader can
therefore write at the same moment without losing a row.

The score becomes one item of the lab's outputs (``capstone grade: 87.5/100 (13 of 15 checks
passed)``), replacing the previous score item, so the key outputs a notebook recorded are kept.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from filelock import FileLock, Timeout

from graders.engine.model import GradeReport, LabResult, Status

COLUMNS = ("lab", "date", "outputs", "status")
STATUSES = ("not-started", "in-progress", "done", "blocked")
DEFAULT_FILE = "capstone-progress.csv"
SEPARATOR = "; "
SCORE_PREFIX = "capstone grade: "
LOCK_TIMEOUT_S = 30.0
MAX_BYTES = 1_000_000


class ProgressFileError(Exception):
    """The progress file cannot be read or written; the message names the file and the fix."""


@dataclass(frozen=True)
class Row:
    lab: str
    date: str
    outputs: str
    status: str


def score_item(result: LabResult) -> str:
    passed = result.counts.get(Status.PASSED.value, 0)
    return f"{SCORE_PREFIX}{result.score:g}/{result.max_score:g} ({passed} of {len(result.checks)} checks passed)"


def merged_outputs(outputs: str, item: str) -> str:
    """``outputs`` with its previous score item (if any) dropped and ``item`` appended."""
    kept = [part for part in outputs.split(SEPARATOR) if part.strip() and not part.startswith(SCORE_PREFIX)]
    return SEPARATOR.join([*kept, item])


def updated_row(previous: Row | None, result: LabResult, today: str) -> Row:
    """The lab's row after grading: the score recorded, a status that is at least in progress.

    A status the student set (in progress, done, blocked) is kept; a lab that was not started yet
    becomes in progress, or done at full marks.
    """
    item = score_item(result)
    complete = result.max_score > 0 and result.score >= result.max_score
    if previous is None:
        return Row(result.id, today, item, "done" if complete else "in-progress")
    status = previous.status
    if status not in ("in-progress", "done", "blocked"):
        status = "done" if complete else "in-progress"
    return Row(result.id, today, merged_outputs(previous.outputs, item), status)


def parse(text: str, source: Path) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return []
    missing = [c for c in COLUMNS if c not in reader.fieldnames]
    if missing:
        raise ProgressFileError(
            f"{source}: the header is {','.join(reader.fieldnames)} but must be {','.join(COLUMNS)} "
            f"(missing {', '.join(missing)}); fix the first line, or move the file away to start a new one"
        )
    return [Row(*(str(record.get(c) or "") for c in COLUMNS)) for record in reader]


def render(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r.lab):
        writer.writerow({"lab": row.lab, "date": row.date, "outputs": row.outputs, "status": row.status})
    return out.getvalue()


def _read(path: Path) -> list[Row]:
    if path.is_symlink():
        raise ProgressFileError(f"{path}: is a symbolic link; replace it with the file itself")
    if not path.exists():
        return []
    if not path.is_file():
        raise ProgressFileError(f"{path}: is not a file; remove it or pass another path to --record-progress")
    if path.stat().st_size > MAX_BYTES:
        raise ProgressFileError(f"{path}: larger than {MAX_BYTES // 1000} kB; a progress sheet has one row per lab")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgressFileError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    try:
        return parse(text, path)
    except csv.Error as exc:
        raise ProgressFileError(f"{path}: not valid CSV ({exc})") from None


def _atomic_write(target: Path, text: str) -> None:
    # mkstemp creates the file readable by its owner only; the sheet keeps its mode (or gets 0644).
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_scores(path: Path, report: GradeReport, today: Date | None = None) -> list[Row]:
    """Upsert one row per graded lab (labs whose grader did not run are left alone); the rows written."""
    graded = [lab for lab in report.labs if lab.checks]
    when = (today or Date.today()).isoformat()
    if not path.parent.is_dir():
        raise ProgressFileError(f"{path}: the folder {path.parent} does not exist")
    try:
        with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
            rows = {row.lab: row for row in _read(path)}
            written = [updated_row(rows.get(lab.id), lab, when) for lab in graded]
            rows.update({row.lab: row for row in written})
            _atomic_write(path, render(rows.values()))
    except Timeout:
        raise ProgressFileError(
            f"{path}: another program has held {path.name}.lock for {LOCK_TIMEOUT_S:g} s; try again"
        ) from None
    except OSError as exc:
        raise ProgressFileError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return written
