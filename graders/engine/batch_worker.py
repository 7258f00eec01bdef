"""A warm batch worker: imports the grader stack once, then grades submission after submission.

``python -m graders.engine.batch_worker SETTINGS_JSON`` imports pytest, the graders' lab suites and
the tools they load in-process (checkov, MLflow, ...) once, then reads one task a line on stdin
(``{"folder": ..., "result": ...}``) and answers one line on its protocol output. Each submission is
graded in a process *forked* from this warm one, so it starts with everything imported but shares
nothing with the submissions before or after it: its own session (a timeout kills its whole process
group), its own working folder and temporary folder (removed after it, whatever it left), its own
wall-clock and memory limits, and the orphan sweep after it (see ``orphans``). The forked grading
writes ``GradeReport.to_dict()`` as JSON to the task's result file; the batch reads it back with
``GradeReport.from_dict``.

Forking is only safe from a single-threaded process: the warm imports run with the thread pools of
OpenBLAS/OpenMP and arrow's jemalloc background thread switched off, and the worker refuses to fork
(the submission is graded by a fresh ``capstone grade`` process instead) if a thread is running anyway.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psutil

from graders.engine import orphans

# What each kit lab's grader imports lazily while it grades (measured: the modules a grading of the
# reference adds to sys.modules), imported once per worker instead of once per submission. Torch is
# not here: only student programs import it, in their own interpreter (see graders.sdk.warm).
WARM_IMPORTS: dict[str, tuple[str, ...]] = {
    "graders.lab01": (
        "mlflow",
        "mlflow.tracking",
        "mlflow.store.tracking.sqlalchemy_store",
        "mlflow.store.model_registry.sqlalchemy_store",
    ),
    "graders.lab02": ("PIL.Image", "httpx", "jwt", "rich"),
    "graders.lab03": ("checkov.main", "checkov.runner_filter", "checkov.dockerfile.runner", "check_jsonschema"),
    "graders.lab04": ("prometheus_client", "promql_parser"),
    "graders.lab06": ("kubernetes_validate", "tree_sitter", "tree_sitter_bash"),
    "graders.lab07": ("checkov.main", "checkov.runner_filter", "checkov.terraform.runner"),
    "graders.lab08": ("checkov.main", "checkov.runner_filter", "checkov.kubernetes.runner"),
}
# Read once, when those libraries load: without them OpenBLAS, OpenMP and arrow's jemalloc each start
# a thread at import, and a process with threads must not fork.
SINGLE_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
EXIT_GRADED = 0  # the result file holds {"status": ..., "message": ..., "report": ...}
EXIT_CRASHED = 70
MEMORY_POLL_S = 0.25


@dataclass(frozen=True)
class Settings:
    """What every grading of one batch shares (passed as JSON on the worker's command line)."""

    lab_ids: list[str] | None
    labs_dir: str | None
    python: str | None
    timeout_s: float
    memory_mb: int
    scratch: str  # where each submission's working and temporary folders are made
    cold: bool = False  # a fresh `capstone grade` process per submission (the benchmarks' baseline)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**json.loads(text))


def warm_up(settings: Settings) -> list[Any]:
    """Import the grader stack and the selected labs' suites once; returns the labs to grade."""
    from graders.engine.labs import load_catalog, select
    from graders.engine.session import collect_checks

    saved = {key: os.environ.get(key) for key in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        labs = select(load_catalog(Path(settings.labs_dir) if settings.labs_dir else None), settings.lab_ids)
        for name in dict.fromkeys(m for lab in labs for m in WARM_IMPORTS.get(lab.grader, ())):
            with contextlib.suppress(Exception):  # a missing tool is reported by the check that needs it
                importlib.import_module(name)
        with contextlib.suppress(Exception):  # a suite that cannot load is reported in every grading
            collect_checks(labs)  # imports the suites and their conftests as pytest will
    finally:
        for key, value in saved.items():  # the gradings see the environment `capstone grade` would
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return labs


def threads_running() -> int:
    """OS threads of this process (native ones included, which ``threading`` does not list)."""
    try:
        return psutil.Process().num_threads()
    except psutil.Error:
        return 1


def grade_task(folder: Path, result: Path, settings: Settings, labs: list[Any]) -> dict[str, Any]:
    """Grade one submission in a forked process; the reply line (status and message, or "done")."""
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="submission-", dir=settings.scratch))
    try:
        if settings.cold or threads_running() > 1:
            reply = _grade_cold(folder, result, settings, scratch)
            reply["duration_s"] = time.perf_counter() - started
            return reply
        pid = os.fork()
        if pid == 0:
            _child(folder, result, settings, labs, scratch)
        reply = _watch(pid, settings)
    finally:
        orphans.sweep()  # whatever the grading left running, in a session of its own or not
        shutil.rmtree(scratch, ignore_errors=True)
    reply["duration_s"] = time.perf_counter() - started
    return reply


def _child(folder: Path, result: Path, settings: Settings, labs: list[Any], scratch: Path) -> NoReturn:
    """The forked grading of one submission; never returns (exits without the interpreter's teardown)."""
    code = EXIT_CRASHED
    try:
        os.setsid()  # a session (and process group) of its own: a timeout kills all of it
        _redirect_output(scratch / "output.log")
        work, tmp = scratch / "cwd", scratch / "tmp"
        work.mkdir()
        tmp.mkdir()
        os.chdir(work)
        os.environ["TMPDIR"] = str(tmp)
        tempfile.tempdir = str(tmp)
        _write_json(result, _grade(folder, labs, settings.python))
        code = EXIT_GRADED
    except BaseException as exc:  # the batch gets a row saying why, never a traceback
        with contextlib.suppress(Exception):
            _write_json(result, {"status": "failed", "message": f"the grader crashed: {type(exc).__name__}: {exc}"})
            code = EXIT_GRADED
    finally:
        os._exit(code)


def _grade(folder: Path, labs: list[Any], python: str | None) -> dict[str, Any]:
    from graders.engine.locate import NotACapstone, find_capstone
    from graders.engine.session import EngineError, check_isolation, grade_labs

    try:
        root = find_capstone(folder, walk_up=False)  # --exact: the folder itself, never the one above
        check_isolation(root)
        report = grade_labs(root, labs, python=python, quiet=True, jobs=1)
    except (EngineError, NotACapstone, NotADirectoryError, ValueError) as exc:
        return {"status": "failed", "message": str(exc)}
    return {"status": "graded", "message": "", "report": report.to_dict()}


def _watch(pid: int, settings: Settings) -> dict[str, Any]:
    """Wait for the forked grading within its limits; kill its whole session when it breaks one."""
    deadline = time.monotonic() + settings.timeout_s
    limit = settings.memory_mb * 2**20
    pidfd = _pidfd(pid)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return _exited(status)
            if time.monotonic() > deadline:
                _kill(pid)
                return {"status": "timeout", "message": f"grading took longer than {settings.timeout_s:g} s"}
            if limit and _rss(pid) > limit:
                _kill(pid)
                return {
                    "status": "failed",
                    "message": f"grading used more than {settings.memory_mb} MB of memory and was stopped",
                }
            wait = min(MEMORY_POLL_S, max(0.0, deadline - time.monotonic()))
            if pidfd is not None:
                select.select([pidfd], [], [], wait)  # wakes at once when the grading exits
            else:
                time.sleep(min(wait, 0.05))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _exited(status: int) -> dict[str, Any]:
    code = os.waitstatus_to_exitcode(status)
    if code == EXIT_GRADED:
        return {"status": "done"}
    why = f"signal {-code}" if code < 0 else f"exit {code}"
    return {"status": "failed", "message": f"the grading process stopped unexpectedly ({why})"}


def _kill(pid: int) -> None:
    orphans.kill_group(pid)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None


def _rss(pid: int) -> int:
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def _grade_cold(folder: Path, result: Path, settings: Settings, scratch: Path) -> dict[str, Any]:
    """The fallback when forking is unsafe: a fresh ``capstone grade`` process for this submission."""
    out = scratch / "report.json"
    cmd = [sys.executable, "-m", "graders.cli", "grade", str(folder), "--format", "json", "--output", str(out)]
    cmd += ["--jobs", "1", "--exact"]
    for lab_id in settings.lab_ids or []:
        cmd += ["--lab", lab_id]
    if settings.python:
        cmd += ["--python", settings.python]
    if settings.labs_dir:
        cmd += ["--labs-dir", settings.labs_dir]
    proc = subprocess.Popen(
        cmd, cwd=scratch, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=settings.timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc.pid)
        return {"status": "timeout", "message": f"grading took longer than {settings.timeout_s:g} s"}
    if proc.returncode != 0 or not out.exists():
        tail = err.strip().splitlines()[-1:] or ["no output"]
        return {"status": "failed", "message": f"grader exited {proc.returncode}: {tail[0][:300]}"}
    report = json.loads(out.read_text(encoding="utf-8"))
    _write_json(result, {"status": "graded", "message": "", "report": report})
    return {"status": "done"}


def _redirect_output(log: Path) -> None:
    """Point file descriptors 0-2 away from the worker's protocol pipe (student tools write to them)."""
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(path)  # the batch never reads half a file


def main(argv: list[str]) -> NoReturn:
    """Serve tasks until stdin closes. Replies go to a private copy of stdout: fd 1 is stderr here."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # anything printed while importing or grading cannot corrupt a reply
    settings = Settings.from_json(argv[0])
    orphans.adopt_orphans()
    labs = [] if settings.cold else warm_up(settings)
    gc.collect()
    gc.freeze()  # the warm objects: never traversed by a grading's collections, nor copied on write by them
    for line in sys.stdin:
        task = json.loads(line)
        reply = grade_task(Path(task["folder"]), Path(task["result"]), settings, labs)
        protocol.write(json.dumps(reply) + "\n")
    protocol.flush()
    os._exit(0)  # no teardown of the imported stack (seconds; see graders.fast_exit)


if __name__ == "__main__":
    main(sys.argv[1:])
