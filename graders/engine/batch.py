"""Grading a whole class: every submission folder in its own process, a few at a time.

Each submission is graded by a child ``capstone grade --format json`` process with a wall-clock
limit, so one hostile or broken submission (a crash, a hang, a memory blow-up) is recorded in its
own gradebook row and never stops the batch or changes anyone else's score. After each grading,
whatever it left running (a program in a session of its own, or everything under a grading killed at
its limit) is stopped (see ``orphans``), so it cannot slow down the submissions graded next.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from graders.engine import orphans
from graders.engine.model import GradeReport
from graders.reports.gradebook import BatchRow

DEFAULT_SUBMISSION_TIMEOUT_S = 900.0
_gradings_lock = threading.Lock()  # held while a grading starts and while strays are swept
_gradings: set[int] = set()  # pids of the `capstone grade` processes running now


def submission_folders(directory: Path) -> list[Path]:
    """Immediate sub-folders of ``directory`` (hidden ones skipped), in name order."""
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def grade_one(
    folder: Path,
    lab_ids: list[str] | None,
    python: str | None,
    timeout_s: float,
    labs_dir: Path | None = None,
) -> BatchRow:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="capstone-batch-") as tmp:
        out = Path(tmp) / "report.json"
        # One process per submission: the batch's own --jobs already keeps the cores busy.
        cmd = [sys.executable, "-m", "graders.cli", "grade", str(folder), "--format", "json", "--output", str(out)]
        cmd += ["--jobs", "1", "--exact"]  # the folder itself: never the batch folder above a non-capstone
        for lab_id in lab_ids or []:
            cmd += ["--lab", lab_id]
        if python:
            cmd += ["--python", python]
        if labs_dir:
            cmd += ["--labs-dir", str(labs_dir)]
        proc = _grade_process(cmd, Path(tmp), timeout_s)
        if proc is None:
            return BatchRow(
                folder.name, None, "timeout", f"grading took longer than {timeout_s:g} s", time.perf_counter() - started
            )
        duration = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return BatchRow(folder.name, None, "failed", f"grader exited {proc.returncode}: {tail[0][:300]}", duration)
        try:
            report = GradeReport.from_dict(json.loads(out.read_text(encoding="utf-8")), submission=folder.name)
        except (ValueError, KeyError) as exc:
            return BatchRow(folder.name, None, "failed", f"unreadable grader output: {exc}", duration)
    return BatchRow(folder.name, report, "graded", "", duration)


def _grade_process(cmd: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess[str] | None:
    """Run one `capstone grade`; None when it ran past ``timeout_s`` (it is killed). Strays are swept after."""
    with _gradings_lock:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        _gradings.add(proc.pid)
    try:
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    finally:
        with _gradings_lock:
            _gradings.discard(proc.pid)
            orphans.sweep(keep=_gradings)


def grade_batch(
    directory: Path,
    lab_ids: list[str] | None = None,
    python: str | None = None,
    jobs: int = 1,
    timeout_s: float = DEFAULT_SUBMISSION_TIMEOUT_S,
    labs_dir: Path | None = None,
    progress: Callable[[int, int, BatchRow], None] | None = None,
) -> list[BatchRow]:
    """Grade every submission folder under ``directory``; rows come back in folder order."""
    folders = submission_folders(directory)
    rows: dict[str, BatchRow] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, f, lab_ids, python, timeout_s, labs_dir): f for f in folders}
        for done, future in enumerate(as_completed(futures), start=1):
            folder = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # a bug here must not lose the other rows
                row = BatchRow(folder.name, None, "failed", f"{type(exc).__name__}: {exc}")
            rows[folder.name] = row
            if progress:
                progress(done, len(folders), row)
    return [rows[f.name] for f in folders]


def print_progress(done: int, total: int, row: BatchRow) -> None:
    """A one-line progress bar on stderr (a line per submission when not a terminal)."""
    width = 30
    filled = int(width * done / total) if total else width
    bar = "#" * filled + "-" * (width - filled)
    score = f"{row.report.score:g}/{row.report.max_score:g}" if row.report else row.status
    line = f"[{bar}] {done}/{total}  {row.submission}: {score} ({row.duration_s:.1f} s)"
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        sys.stderr.write("\r" + line[:120].ljust(120) + end)
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
