"""Run the student's MLflow entry points the way the lab describes them, and snapshot the stores.

Four runs of ``python -m mlops.train_register`` and one of ``python -m mlops.release``, each a
student program (subprocess, timeout, memory limit, scrubbed environment) in a scratch copy of the
repository, against temporary SQLite stores that only the grader knows:

1. ``--weak`` against a fresh store: the weak candidate must be registered but must not get the alias
   (it fails the acceptance criteria: the *threshold* guard);
2. the normal candidate against another fresh store (alongside 1): registered, tagged, promoted;
3. ``--weak`` again against store 2, with every acceptance minimum lowered to 0 in its copy of
   ``params.yaml``: only the *comparison* with the champion can keep the alias where it is;
5. (after 1, alongside 2 and 3) ``--weak --line <one line>`` against store 1, with the same lowered minimums, after
   the grader pointed the alias at run 1's version: the same seed and data train the same model, so
   the candidate *ties* the champion and must not take the alias; its version must be tagged with
   that one line only;
6. (after 5) ``--weak`` against a third, empty store, with every minimum 0 but one criterion other
   than the first, which run 1's model falls short of: the criteria apply all together, so only that
   one can stop it, and it must;
4. then the release script against store 2, in a copy committed to a throwaway git repository: its
   record must cite that commit and the champion, not the newer version run 3 registered.

The runs go as soon as what they need is there: run 1, then runs 5 and 6 (in one scratch copy) alongside
run 2, run 3 (once runs 1 and 2 have ended) and the release (in the other copy, committed while run 3
runs), so on a machine with two free cores the MLflow part of the lab grades in about the time of
runs 2, 3 and the release. The runs fork from one warm interpreter
(:class:`graders.sdk.warm.WarmPython`) that imported torch, MLflow and matplotlib once, while the
scratch copies and an empty, migrated tracking store were made (the stores start as copies of it when
the student's MLflow is the grader's: the schema migrations cost seconds per store); it falls back to
cold processes whenever it cannot stand in for one.
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.lab01 import contract, store
from graders.sdk import ProcessResult, Submission, find_tool, process, run_tool, safe_yaml
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
    one_criterion: Run | None = None  # run 6 (None when it could not be played: one_criterion_skipped says why)
    one_criterion_minimums: dict[str, float] = field(default_factory=dict)  # params.yaml acceptance for run 6
    one_criterion_skipped: str | None = None
    store_one_criterion: store.Snapshot | None = None  # store 3 after run 6
    lowered: list[str] = field(default_factory=list)  # acceptance metrics lowered to 0 for run 3
    release_records: dict[str, Any] = field(default_factory=dict)  # file name -> parsed JSON (or an error str)
    release_commit: str | None = None  # HEAD of the scratch repository the release ran in
    release_skipped: str | None = None  # why the release could not be graded (no git)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks
    cold_runs: list[str] = field(default_factory=list)  # why a run could not fork from the warm interpreter
    # The student's interpreter when its MLflow is another version than the grader's: the grader then
    # reads copies of the stores and sets the tie run's alias with that MLflow, never migrating a store
    # the student's next program must open. None when the versions are the same.
    other_mlflow: str | None = None


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
    return f"{store.SQLITE}{folder / 'mlflow.db'}"


def _lower_acceptance(workdir: Path, minimums: dict[str, float] | None = None) -> list[str]:
    """Set the acceptance minimums in the copy's params.yaml (every one to 0 by default); the metric names."""
    path = workdir / contract.PARAMS
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"), contract.PARAMS)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return []  # the check on registry answers reports the broken file
    acceptance = data.get("acceptance") if isinstance(data, dict) else None
    if not isinstance(acceptance, dict):
        return []
    for metric in acceptance:
        acceptance[metric] = (minimums or {}).get(str(metric), 0.0)
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
    return store.set_alias(uri, reg.model_name, reg.alias, weak.versions[0].version, python=scenario.other_mlflow)


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


def _mlflow_version(python: str) -> str | None:
    """The MLflow version ``python`` has installed (read from its metadata, nothing imported), or None."""
    code = "import importlib.metadata as m; print(m.version('mlflow'))"
    try:
        result = process.run([python, "-c", code], cwd=Path(python).parent, timeout=30, env={})
    except Exception:  # a broken interpreter: the runs report it
        return None
    return result.stdout.strip() if result.ok else None


def _empty_store(python: str, folder: Path) -> tuple[Path | None, bool]:
    """A migrated empty store when the student's MLflow is the grader's (same schema), else None; and
    whether it is the grader's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("mlflow")
    except PackageNotFoundError:
        return None, False
    if _mlflow_version(python) != ours:
        store.warm_up()  # the snapshots still need the grader's MLflow imported
        return None, False
    return store.make_empty(folder), True


def play(submission: Submission, python: str, workdir: Path, registry: contract.Registry) -> Scenario:
    """Run the five programs (runs 1 and 5 alongside 2, 3 and the release) and take the snapshots the checks read."""
    return _play(submission, python, workdir, registry)


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
        # While the warm interpreter imports: the empty store (grader side) and two copies, "weak" for
        # runs 1, 3 and 5 (3 and 5 with lowered minimums), "main" for run 2 and the release.
        empty = pool.submit(_empty_store, python, workdir / "store-empty")
        copies = {name: submission.copy_to(workdir / name, ignore=COPY_IGNORE) for name in ("weak", "main")}
        release_dir = copies["main"] / contract.RELEASES_DIR
        if release_dir.is_dir():
            shutil.rmtree(release_dir)  # the record the grader asks for is then the only one
        scenario.timings["copies"] = time.perf_counter() - started
        empty_db, same_mlflow = empty.result()
        scenario.other_mlflow = None if same_mlflow else python
        for name in ("weak", "main"):
            store.start_from(empty_db, workdir / f"store-{name}")
        weak_uri, main_uri = _store_uri(workdir / "store-weak"), _store_uri(workdir / "store-main")
        scenario.timings["empty stores"] = time.perf_counter() - started - scenario.timings["copies"]

        lowered = threading.Event()
        weak_side = pool.submit(_weak_side, scenario, warm, submission, copies["weak"], weak_uri, lowered, empty_db)
        _execute(warm, scenario.candidate, train, [], copies["main"], main_uri)
        scenario.store_candidate = _snapshot(scenario, main_uri)
        commit = pool.submit(_commit_all, copies["main"])  # the release's commit, made while run 3 runs
        lowered.wait()  # run 1 has ended and the copy's minimums are 0
        _execute(warm, scenario.worse, train, ["--weak"], copies["weak"], main_uri)
        scenario.release_commit, scenario.release_skipped = commit.result()
        if scenario.release_commit:  # after run 3 registered a newer version that is not the champion
            release_args = ["--approver", APPROVER, "--change-request", CHANGE_REQUEST]
            _execute(warm, scenario.release, release, release_args, copies["main"], main_uri)
        scenario.store_worse = _snapshot(scenario, main_uri)
        scenario.release_records = _read_records(copies["main"] / contract.RELEASES_DIR)
        weak_side.result()
        scenario.timings["warm imports"] = warm.import_seconds or 0.0
        scenario.cold_runs = list(warm.cold_runs)
    scenario.timings["total"] = time.perf_counter() - started
    scenario.timings["cpu of the programs"] = _children_cpu() - cpu_before
    for run in (
        scenario.weak_first,
        scenario.candidate,
        scenario.worse,
        scenario.tie,
        scenario.one_criterion,
        scenario.release,
    ):
        if run is not None and run.result is not None:
            scenario.timings[f"run {run.label}"] = run.result.duration_s
    return scenario


def _snapshot(scenario: Scenario, uri: str) -> store.Snapshot:
    reg = scenario.registry
    return store.take(uri, reg.experiment, reg.model_name, reg.alias, isolated=scenario.other_mlflow is not None)


def _weak_side(
    scenario: Scenario,
    warm: WarmPython,
    submission: Submission,
    copy: Path,
    uri: str,
    lowered: threading.Event,
    empty_db: Path | None,
) -> None:
    """Run 1, then (minimums lowered) the tie run 5 against its store, then run 6; ``lowered`` lets run 3 start."""
    train = contract.TRAIN_MODULE
    try:
        _execute(warm, scenario.weak_first, train, ["--weak"], copy, uri)
        scenario.lowered = _lower_acceptance(copy)
    finally:
        lowered.set()
    scenario.store_weak = _snapshot(scenario, uri)
    scenario.tie_line = _tie_line(submission)
    scenario.tie_skipped = _prepare_tie(scenario, uri, scenario.tie_line)
    if scenario.tie_skipped is None:
        tie_args = ["--weak", "--line", scenario.tie_line]
        scenario.tie = Run("tie", f"python -m {train} {' '.join(tie_args)}")
        _execute(warm, scenario.tie, train, tie_args, copy, uri)
        scenario.store_tie = _snapshot(scenario, uri)
    minimums, scenario.one_criterion_skipped = _one_criterion(scenario.registry, scenario.store_weak)
    if minimums is not None:
        scenario.one_criterion_minimums = minimums
        _lower_acceptance(copy, minimums)
        store.start_from(empty_db, copy.parent / "store-criterion")
        criterion_uri = _store_uri(copy.parent / "store-criterion")
        scenario.one_criterion = Run("one criterion", f"python -m {train} --weak")
        _execute(warm, scenario.one_criterion, train, ["--weak"], copy, criterion_uri)
        scenario.store_one_criterion = _snapshot(scenario, criterion_uri)


def _one_criterion(
    registry: contract.Registry, weak: store.Snapshot | None
) -> tuple[dict[str, float] | None, str | None]:
    """Minimums for run 6: 0 but for one criterion (not the first) that run 1's model falls short of.

    Only that criterion can then stop the weak candidate on an empty registry, so an implementation
    that applies the first criterion only, or promotes when any one passes, is found out. The minimum
    is the student's own when run 1's value is below it, else halfway between that value and 1.
    """
    names = list(registry.acceptance)
    if len(names) < 2:
        return None, f"{contract.PARAMS} has a single acceptance criterion"
    version = weak.versions[0] if weak is not None and not weak.error and weak.versions else None
    run = weak.run(version.run_id) if weak is not None and version is not None else None
    if run is None:
        return None, "the weak run registered no version whose metrics could be read"
    for name in reversed(names[1:]):
        value = run.metrics.get(name)
        if isinstance(value, (int, float)) and 0 <= value < 0.9998:
            own = registry.acceptance[name]
            minimum = own if value < own else round(value + (1 - value) / 2, 4)
            return {n: (minimum if n == name else 0.0) for n in names}, None
    return None, f"the weak run logged no value below 1 for {', '.join(names[1:])}"


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes of this process."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
