"""Grading a whole class: every submission folder isolated, a few warm workers at a time.

``--jobs N`` warm workers (``batch_worker``) each import the grader stack once and then grade one
submission after another, each in a process forked from the warm one with its own session, folders,
time and memory limits, so a class pays for importing pytest, checkov, MLflow and torch N times, not
once per submission. One hostile or broken submission (a crash, a hang, a memory blow-up) is recorded
in its own gradebook row and never stops the batch or changes anyone else's score: a worker that dies
or stops answering costs its one submission and is replaced. After every grading, whatever it left
running is stopped (see ``orphans``), so it cannot slow down the submissions graded next.

``--shard K/N`` grades the folders whose *name* hashes to shard K, so N machines split a class the
same way however many submissions are added later; ``gradebook.merge`` joins their gradebooks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from graders.engine import orphans
from graders.engine.batch_row import BatchRow
from graders.engine.batch_worker import Settings
from graders.engine.model import GradeReport

DEFAULT_SUBMISSION_TIMEOUT_S = 900.0
DEFAULT_MEMORY_MB = 6144  # the grader's own process; student programs have limits of their own
# How long past the submission's own limit a worker may stay silent before it is replaced (it had to
# kill the grading and sweep; the first task also waits for the worker's imports).
WORKER_GRACE_S = 60.0
WORKER_START_S = 300.0
WORKER = [sys.executable, "-m", "graders.engine.batch_worker"]

Progress = Callable[[int, int, BatchRow], None]


def submission_folders(directory: Path) -> list[Path]:
    """Immediate sub-folders of ``directory`` (hidden ones skipped), in name order."""
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N), 1 <= K <= N; ValueError with the expected form otherwise."""
    k, sep, n = text.partition("/")
    try:
        shard, count = int(k), int(n)
    except ValueError:
        shard = count = 0
    if not sep or count < 1 or not 1 <= shard <= count:
        raise ValueError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return shard, count


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) of a submission folder name: a hash, so adding a folder moves no other one."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(folders: list[Path], shard: tuple[int, int] | None) -> list[Path]:
    if shard is None:
        return folders
    k, n = shard
    return [f for f in folders if shard_of(f.name, n) == k]


@dataclass
class _Task:
    folder: Path
    result: Path
    sent: float = 0.0


class _Worker:
    """One warm worker process and the task it is grading (at most one at a time)."""

    def __init__(self, command: list[str], settings: Settings, log: IO[bytes], first_deadline_s: float) -> None:
        self.proc = subprocess.Popen(
            [*command, settings.to_json()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=settings.scratch,  # an empty folder: nothing beside it on the worker's sys.path
            env=_worker_env(),
            start_new_session=True,  # killed with everything it started if it stops answering
        )
        self.task: _Task | None = None
        self.started = time.monotonic()
        self.first_deadline_s = first_deadline_s
        self.graded = 0

    def send(self, task: _Task) -> None:
        assert self.proc.stdin is not None
        task.sent = time.monotonic()
        self.task = task
        self.proc.stdin.write((json.dumps({"folder": str(task.folder), "result": str(task.result)}) + "\n").encode())
        self.proc.stdin.flush()

    def deadline(self, timeout_s: float) -> float:
        assert self.task is not None
        extra = self.first_deadline_s if self.graded == 0 else 0.0
        return self.task.sent + timeout_s + WORKER_GRACE_S + extra

    def stop(self) -> None:
        """Kill the worker, the grading it forked (a session of its own) and all they started."""
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                orphans.kill_group(child.pid)
        orphans.kill_group(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.stop()


def _worker_env() -> dict[str, str]:
    """This environment, with PYTHONPATH made absolute: the worker starts in another folder."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).absolute()) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    return env


def _row(task: _Task, reply: dict[str, object]) -> BatchRow:
    """The gradebook row of a finished task, from the worker's reply and the grading's result file."""
    name = task.folder.name
    duration = float(reply.get("duration_s", time.monotonic() - task.sent))  # type: ignore[arg-type]
    if reply.get("status") != "done":
        return BatchRow(name, None, str(reply.get("status", "failed")), str(reply.get("message", "")), duration)
    try:
        data = json.loads(task.result.read_text(encoding="utf-8"))
        if data["status"] != "graded":
            return BatchRow(name, None, str(data["status"]), str(data.get("message", "")), duration)
        report = GradeReport.from_dict(data["report"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return BatchRow(name, None, "failed", f"unreadable grader output: {exc}", duration)
    report.submission = name
    return BatchRow(name, report, "graded", "", duration)


def grade_batch(
    directory: Path,
    lab_ids: list[str] | None = None,
    python: str | None = None,
    jobs: int = 1,
    timeout_s: float = DEFAULT_SUBMISSION_TIMEOUT_S,
    labs_dir: Path | None = None,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
    worker: list[str] | None = None,
    cold: bool = False,
) -> list[BatchRow]:
    """Grade every submission folder under ``directory`` (of ``shard``); rows come back in folder order.

    ``cold``: a fresh ``capstone grade`` process per submission instead of a fork of a warm worker.
    ``worker``: the worker command (tests use a stand-in that misbehaves).
    """
    folders = in_shard(submission_folders(directory), shard)
    rows: dict[str, BatchRow] = {}
    with tempfile.TemporaryDirectory(prefix="capstone-batch-") as tmp:
        settings = Settings(
            lab_ids=lab_ids,
            labs_dir=str(labs_dir.absolute()) if labs_dir else None,
            python=python,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            scratch=tmp,
            cold=cold,
        )
        tasks = deque(_Task(f.absolute(), Path(tmp) / f"result-{i}.json") for i, f in enumerate(folders))
        with open(Path(tmp) / "workers.log", "wb") as log:
            _run(tasks, settings, max(1, min(jobs, len(folders))), log, worker or WORKER, rows, progress, len(folders))
    return [rows[f.name] for f in folders]


def _run(
    tasks: deque[_Task],
    settings: Settings,
    jobs: int,
    log: IO[bytes],
    command: list[str],
    rows: dict[str, BatchRow],
    progress: Progress | None,
    total: int,
) -> None:
    """Feed the tasks to ``jobs`` workers, replacing any that dies or stops answering."""
    selector = selectors.DefaultSelector()
    workers: list[_Worker] = []

    def finish(worker: _Worker, row: BatchRow) -> None:
        rows[row.submission] = row
        worker.task = None
        worker.graded += 1
        if progress:
            progress(len(rows), total, row)

    def start() -> None:
        w = _Worker(command, settings, log, WORKER_START_S)
        workers.append(w)
        assert w.proc.stdout is not None
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)

    def feed(w: _Worker) -> None:
        if tasks and w.task is None:
            try:
                w.send(tasks.popleft())
            except OSError:  # the worker is gone already: its task gets a row, a new worker the rest
                retire(w, "died")

    def retire(w: _Worker, why: str) -> None:
        """A worker that died or hung: its task gets a failed/timeout row, a new worker takes over."""
        if w.proc.stdout is not None:
            selector.unregister(w.proc.stdout)
        w.stop()
        workers.remove(w)
        if w.task is not None:
            status = "timeout" if why == "timeout" else "failed"
            message = (
                f"grading took longer than {settings.timeout_s:g} s"
                if why == "timeout"
                else f"the grading worker stopped unexpectedly (exit {w.proc.returncode})"
            )
            finish(w, BatchRow(w.task.folder.name, None, status, message, time.monotonic() - w.task.sent))
        orphans.sweep(keep=[other.proc.pid for other in workers])
        if tasks:
            start()
            feed(workers[-1])

    try:
        for _ in range(jobs):
            start()
        for w in list(workers):
            feed(w)
        while any(w.task is not None for w in workers):
            now = time.monotonic()
            busy = [w for w in workers if w.task is not None]
            wait = max(0.0, min(w.deadline(settings.timeout_s) for w in busy) - now)
            for key, _ in selector.select(timeout=min(wait, 5.0)):
                w = key.data
                line = w.proc.stdout.readline() if w.proc.stdout else b""
                try:
                    reply = json.loads(line)
                except ValueError:  # end of file (it died) or not a reply: either way, replaced
                    retire(w, "died")
                    continue
                if w.task is not None:
                    finish(w, _row(w.task, reply))
                feed(w)
            now = time.monotonic()
            for w in [w for w in workers if w.task is not None and now > w.deadline(settings.timeout_s)]:
                retire(w, "timeout")
    except BaseException:  # interrupted: stop every grading now rather than wait for it
        for w in workers:
            w.stop()
        raise
    finally:
        for w in workers:
            w.close()
        selector.close()


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

