"""The capstone progress tracker: ``capstone-progress.csv`` with one row per lab.

Each notebook records its key outputs when it finishes (``record_progress("lab02", [...])``).
Updates are an upsert by lab id, so re-running a notebook replaces its row instead of adding one,
and they hold a lock file and replace the CSV atomically, so two notebooks (or a notebook and CI)
writing at the same moment never lose or corrupt a row.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from filelock import FileLock

COLUMNS = ("lab", "date", "outputs", "status")
STATUSES = ("not-started", "in-progress", "done", "blocked")
DEFAULT_FILE = "capstone-progress.csv"
LAB_ID = re.compile(r"^lab0[1-8]$")
LOCK_TIMEOUT_S = 30.0


class ProgressError(Exception):
    """A bad lab id, status or tracker file; the message says which and how to fix it."""


@dataclass(frozen=True)
class ProgressRow:
    lab: str
    date: str
    outputs: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {"lab": self.lab, "date": self.date, "outputs": self.outputs, "status": self.status}


def default_path() -> Path:
    """The tracker at the repository root (found from the plant profile), else in the working directory."""
    try:
        from common.config import find_profile

        return find_profile().resolve().parent.parent / DEFAULT_FILE
    except Exception:
        return Path.cwd() / DEFAULT_FILE


def read_progress(path: Path | str | None = None) -> list[ProgressRow]:
    target = Path(path) if path is not None else default_path()
    if not target.exists():
        return []
    return _parse(target.read_text(encoding="utf-8"), target)


def _parse(text: str, source: Path) -> list[ProgressRow]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return []
    missing = [c for c in COLUMNS if c not in reader.fieldnames]
    if missing:
        raise ProgressError(f"{source}: missing column(s) {', '.join(missing)}; the header must be {','.join(COLUMNS)}")
    return [ProgressRow(*(str(row.get(c) or "") for c in COLUMNS)) for row in reader]


def _render(rows: Iterable[ProgressRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r.lab):
        writer.writerow(row.as_dict())
    return out.getvalue()


def record_progress(
    lab: str,
    outputs: Iterable[str] | str,
    status: str = "done",
    path: Path | str | None = None,
    date: Date | str | None = None,
) -> ProgressRow:
    """Insert or replace the row of ``lab`` and return it; safe to call from concurrent processes."""
    if not LAB_ID.match(lab):
        raise ProgressError(f"lab id {lab!r} is not one of lab01 ... lab08")
    if status not in STATUSES:
        raise ProgressError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    text_outputs = outputs if isinstance(outputs, str) else "; ".join(str(o) for o in outputs)
    when = date.isoformat() if isinstance(date, Date) else (date or Date.today().isoformat())
    row = ProgressRow(lab=lab, date=when, outputs=text_outputs, status=status)
    target = Path(path) if path is not None else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=LOCK_TIMEOUT_S):
        rows = {r.lab: r for r in read_progress(target)}
        rows[lab] = row
        _atomic_write(target, _render(rows.values()))
    return row


def _atomic_write(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
