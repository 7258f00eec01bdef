"""Run the student's MLflow entry points the way the lab describes them, and snapshot the stores.

Four runs of ``python -m mlops.train_register`` and one of ``python -m mlops.release``, each a
student program (subprocess, timeout, memory limit, scrubbed environment) in a scratch copy of the
repository, against temporary SQLite stores that only the grader knows:

1. ``--weak`` against a fresh store: the weak candidate must be registered but must not get the alias
   (it fails the acceptance criteria: the *threshold* guard);
2. the normal candidate against another fresh store (alongside 1): registered, tagged, promoted;
3. ``--weak`` again against store 2, with every acceptance minimum lowered to 0 in its copy of
   ``params.yaml``: only the *comparison* with the champion can keep the alias where it is;
5. (alongside 3) ``--weak --line <one line>`` against store 1, with the same lowered minimums, after
   the grader pointed the alias at run 1's version: the same seed and data train the same model, so
   the candidate *ties* the champion and must not take the alias; its version must be tagged with
   that one line only;
4. then the release script against store 2, in a copy committed to a throwaway git repository: its
   record must cite that commit and the champion, not the newer version run 3 registered.

Runs 1 and 2, and 3 and 5, are independent, so each pair runs in parallel (runs 1, 3 and 5 share one
scratch copy, 2 and 4 another): the MLflow part of the lab grades in about the time of three runs
instead of five on a machine with two free cores. The four runs fork from one warm interpreter
(:class:`graders.sdk.warm.WarmPython`) that imported torch, MLflow and matplotlib once, while the
scratch copies were made; it falls back to cold processes whenever it cannot stand in for one.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.lab01 import contract, store
from graders.sdk import ProcessResult, Submission, find_tool, run_tool, safe_yaml
from graders.sdk.process import StudentProgramTimeout
from graders.sdk.submission import IGNORED_DIRS, SubmissionFileError
from graders.sdk.warm import WarmPython

RUN_TIMEOUT_S = 150.0
RUN_MEMORY_MB = 4096
APPROVER = "Grader Quality Engineer"
CHANGE_REQUEST = "CR-2099-0001"
# Scratch copies leave out run-time state (the student's own tracking store and service databases).
COPY_IGNORE = IGNORED_DIRS | {"var"}
# What the student's programs import that costs seconds; the warm interpreter imports it once.
PRELOAD = (
    "torch",
    "torch.optim",
    "torch._dynamo",  # imported by the first optimizer step
    "mlflow",
    "mlflow.tracking",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "matplotlib.pyplot",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "capstone grader",
    "GIT_AUTHOR_EMAIL": "grader@capstone.invalid",
    "GIT_COMMITTER_NAME": "capstone grader",
    "GIT_COMMITTER_EMAIL": "grader@capstone.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Run:
    """One student program run: its command line as the student would type it, and what happened."""

    label: str
    shown: str
    result: ProcessResult | None = None
    error: str | None = None  # could not run at all, or timed out

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    def describe(self) -> str:
        """How the run went, for feedback: the command, its exit status and the end of its output."""
        if self.error:
            return f"`{self.shown}` {self.error}"
        assert self.result is not None
        status = "succeeded" if self.result.ok else f"exited with status {self.result.returncode}"
        tail = _tail(self.result)
        return f"`{self.shown}` {status}" + (f"; its output ends with:\n{tail}" if tail else " and printed nothing")


def _tail(result: ProcessResult, lines: int = 8) -> str:
    kept = [line for line in result.output.splitlines() if line.strip() and "Downloading artifacts" not in line]
    return "\n".join("    " + line[:300] for line in kept[-lines:])


@dataclass
class Scenario:
    registry: contract.Registry
    weak_first: Run
    candidate: Run
    worse: Run
    release: Run
    tie: Run | None = None  # None when there is no run 1 version to tie (tie_skipped says why)
    tie_line: str = ""
    tie_skipped: str | None = None
    store_weak: store.Snapshot | None = None  # store 1 after run 1
    store_tie: store.Snapshot | None = None  # store 1 after run 5 (alias set by the grader to run 1's version)
    store_candidate: store.Snapshot | None = None  # store 2 after run 2
    store_worse: store.Snapshot | None = None  # store 2 after run 3
    lowered: list[str] = field(default_factory=list)  # acceptance metrics lowered to 0 for run 3
    release_records: dict[str, Any] = field(default_factory=dict)  # file name -> parsed JSON (or an error str)
    release_commit: str | None = None  # HEAD of the scratch repository the release ran in
    release_skipped: str | None = None  # why the release could not be graded (no git)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks
    cold_runs: list[str] = field(default_factory=list)  # why a run could not fork from the warm interpreter


def _env(workdir: Path, uri: str) -> dict[str, str]:
    return {
        "PYTHONPATH": f"{workdir / 'src'}:{workdir}",
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MPLBACKEND": "Agg",
        "GIT_PYTHON_REFRESH": "quiet",
        "OMP_NUM_THREADS": "1",  # two programs share the machine; keep each to one core
        **GIT_ENV,
    }


def _execute(warm: WarmPython, step: Run, module: str, args: list[str], workdir: Path, uri: str) -> Run:
    try:
        step.result = warm.run_module(
            module,
            args,
            cwd=workdir,
            timeout=RUN_TIMEOUT_S,
            memory_mb=RUN_MEMORY_MB,
            env=_env(workdir, uri),
            label=step.shown,
        )
    except StudentProgramTimeout:
        step.error = f"did not finish within {RUN_TIMEOUT_S:g} s and was stopped"
    except Exception as exc:  # could not start (GraderError) or the like
        step.error = f"could not be run ({exc})"
    return step


def _store_uri(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _lower_acceptance(workdir: Path) -> list[str]:
    """Set every acceptance minimum in the copy's params.yaml to 0; the metric names lowered."""
    path = workdir / contract.PARAMS
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"), contract.PARAMS)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return []  # the check on registry answers reports the broken file
    acceptance = data.get("acceptance") if isinstance(data, dict) else None
    if not isinstance(acceptance, dict):
        return []
    for metric in acceptance:
        acceptance[metric] = 0.0
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return sorted(str(m) for m in acceptance)


def _tie_line(submission: Submission) -> str:
    """One production line for ``--line``: the last of config/plant.yaml (not its first, the default's head)."""
    try:
        return contract.plant(submission).lines[-1]
    except (SubmissionFileError, OSError, ValueError):
        return ""


def _prepare_tie(scenario: Scenario, uri: str, line: str) -> str | None:
    """Point store 1's alias at run 1's version, so run 5 meets a champion it can only equal; why not, or None."""
    weak = scenario.store_weak
    if not line:
        return f"{contract.PLANT} names no production line, so `--line` could not be given"
    if weak is None or weak.error or not weak.versions:
        return f"`{scenario.weak_first.shown}` registered no version, so there was no champion to tie"
    reg = scenario.registry
    return store.set_alias(uri, reg.model_name, reg.alias, weak.versions[0].version)


def _commit_all(workdir: Path) -> tuple[str | None, str | None]:
    """Make the scratch copy a git repository with one commit; (HEAD, None) or (None, why not)."""
    git = find_tool("git")
    if git is None:
        return None, "git is not installed where the grader runs, so the release script could not be graded"
    steps = (
        ["init", "-q"],
        ["-c", "core.bigFileThreshold=1", "add", "-A"],  # one pack, not a loose object per image
        ["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "grading"],
        ["rev-parse", "HEAD"],
    )
    result = None
    for args in steps:
        result = run_tool([git, *args], cwd=workdir, env=GIT_ENV, timeout=60)
        if not result.ok:
            return None, f"the grader could not commit the scratch copy (git {args[0]}: {result.tail(3)})"
    assert result is not None
    return result.stdout.strip(), None


def _read_records(folder: Path) -> dict[str, Any]:
    import json

    records: dict[str, Any] = {}
    if not folder.is_dir():
        return records
    if folder.is_symlink():  # the program made releases/ a link: nothing under it is the scratch copy's
        return {folder.name: f"{contract.RELEASES_DIR}/ is a symbolic link; write the records into the repository"}
    for path in sorted(folder.glob("*.json"))[:10]:
        if path.is_symlink():  # the program could point it anywhere on the grader's machine
            records[path.name] = "a symbolic link, not a record the release script wrote"
            continue
        try:
            if path.stat().st_size > 1_000_000:
                records[path.name] = "the file is over 1 MB"
                continue
            records[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            records[path.name] = f"not valid JSON ({exc})"
    return records


# Reuse between gradings in one process (the kit's tests and `capstone verify` grade many variants of
# the reference): off unless this variable is set, because it assumes the student's programs never
# read the files below (true of the reference; a student's program could read anything).
REUSE_ENV = "CAPSTONE_LAB01_REUSE_SCENARIO"
NOT_PROGRAM_INPUTS = (
    "docs/lifecycle.md",
    "docs/iso9001-audit-checklist.md",
    "docs/versioning-strategy.md",
    "docs/mlops-tooling-comparison.md",
    contract.SCORECARD,
    contract.SCORECARD_MD,
    contract.DVC_PIPELINE,
    f"{contract.RELEASES_DIR}/",
)
_reused: dict[str, Scenario] = {}


def _inputs_key(submission: Submission, python: str) -> str:
    """A hash of everything the programs could read, except NOT_PROGRAM_INPUTS."""
    import hashlib

    digest = hashlib.sha256(python.encode())
    for rel in submission.walk():
        top = rel.split("/", 1)[0]
        if rel in NOT_PROGRAM_INPUTS or rel.startswith(NOT_PROGRAM_INPUTS[-1]) or top == "var":
            continue
        digest.update(rel.encode() + b"\0" + submission.read_bytes(rel, max_bytes=100_000_000) + b"\0")
    return digest.hexdigest()


def play(submission: Submission, python: str, workdir: Path, registry: contract.Registry) -> Scenario:
    """Run the four steps (two at a time) and take the snapshots the checks read."""
    import os

    key = _inputs_key(submission, python) if os.environ.get(REUSE_ENV) else None
    if key is not None and key in _reused:
        return _reused[key]
    scenario = _play(submission, python, workdir, registry)
    if key is not None:
        _reused[key] = scenario
    return scenario


def _play(submission: Submission, python: str, workdir: Path, registry: contract.Registry) -> Scenario:
    train, release = contract.TRAIN_MODULE, contract.RELEASE_MODULE
    shown = f"python -m {train}"
    scenario = Scenario(
        registry,
        weak_first=Run("weak", f"{shown} --weak"),
        candidate=Run("candidate", shown),
        worse=Run("worse", f"{shown} --weak"),
        release=Run("release", f"python -m {release} --approver '{APPROVER}' --change-request {CHANGE_REQUEST}"),
    )
    started, cpu_before = time.perf_counter(), _children_cpu()
    server_env = {k: v for k, v in _env(workdir, "").items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    with WarmPython(python, PRELOAD, server_env) as warm, ThreadPoolExecutor(max_workers=3) as pool:
        # Two copies (made while the warm interpreter imports): runs 2 and 4 share "main"; runs 1 and 3
        # (which follow each other) share "weak".
        copies = {name: submission.copy_to(workdir / name, ignore=COPY_IGNORE) for name in ("weak", "main")}
        release_dir = copies["main"] / contract.RELEASES_DIR
        if release_dir.is_dir():
            shutil.rmtree(release_dir)  # the record the grader asks for is then the only one
        weak_uri, main_uri = _store_uri(workdir / "store-weak"), _store_uri(workdir / "store-main")
        snap = (registry.experiment, registry.model_name, registry.alias)
        scenario.timings["copies"] = time.perf_counter() - started

        warm_up: Future[None] = pool.submit(store.warm_up)
        first = pool.submit(_execute, warm, scenario.weak_first, train, ["--weak"], copies["weak"], weak_uri)
        second = pool.submit(_execute, warm, scenario.candidate, train, [], copies["main"], main_uri)
        first.result()
        second.result()
        scenario.timings["runs 1 and 2"] = time.perf_counter() - started - scenario.timings["copies"]
        mark = time.perf_counter()
        warm_up.result()
        scenario.store_weak = store.take(weak_uri, *snap)
        scenario.store_candidate = store.take(main_uri, *snap)
        scenario.timings["snapshots 1 and 2"] = time.perf_counter() - mark

        mark = time.perf_counter()
        scenario.lowered = _lower_acceptance(copies["weak"])
        third = pool.submit(_execute, warm, scenario.worse, train, ["--weak"], copies["weak"], main_uri)
        scenario.tie_line = _tie_line(submission)
        scenario.tie_skipped = _prepare_tie(scenario, weak_uri, scenario.tie_line)
        fifth: Future[Run] | None = None
        if scenario.tie_skipped is None:
            tie_args = ["--weak", "--line", scenario.tie_line]
            scenario.tie = Run("tie", f"{shown} {' '.join(tie_args)}")
            fifth = pool.submit(_execute, warm, scenario.tie, train, tie_args, copies["weak"], weak_uri)
        # Runs 3 and 5 work in the other copy, so the release's commit is made while they run.
        scenario.release_commit, scenario.release_skipped = _commit_all(copies["main"])
        scenario.timings["release commit"] = time.perf_counter() - mark
        third.result()  # the release runs after run 3 registered a newer version that is not the champion
        scenario.timings["runs 3 and 5"] = time.perf_counter() - mark
        if scenario.release_commit:
            release_args = ["--approver", APPROVER, "--change-request", CHANGE_REQUEST]
            _execute(warm, scenario.release, release, release_args, copies["main"], main_uri)
        if fifth is not None:
            fifth.result()
        scenario.timings["runs 3 to 5"] = time.perf_counter() - mark
        scenario.timings["warm imports"] = warm.import_seconds or 0.0
        scenario.cold_runs = list(warm.cold_runs)
    scenario.store_worse = store.take(main_uri, *snap)
    if scenario.tie is not None:
        scenario.store_tie = store.take(weak_uri, *snap)
    scenario.release_records = _read_records(copies["main"] / contract.RELEASES_DIR)
    scenario.timings["total"] = time.perf_counter() - started
    scenario.timings["cpu of the programs"] = _children_cpu() - cpu_before
    return scenario


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes of this process."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
