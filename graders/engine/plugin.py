"""The pytest plugin that turns a pytest run over the grader suites into a GradeReport.

It provides the fixtures checks use (``submission``, ``checklist``, ``student_python``, ``lab``),
enforces each check's timeout and the lab's time budget, and records one CheckResult per check
whatever happened: pass, fail, partial credit, skip, grader crash or timeout. A check starts as not
run, so one whose outcome never arrives (the session stopped early) is reported as the grader's
error. What an outcome scores and says is decided in ``outcomes`` and the model, not here.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Collection, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from graders.engine import outcomes
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, GradeReport, LabResult, base_check_id, check_lab
from graders.sdk.checks import CHECK_MARKER, Checklist, CheckSpec, GraderError
from graders.sdk.process import student_python as resolve_python
from graders.sdk.submission import Submission


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise CheckTimeout in the main thread after ``seconds`` (no-op outside the main thread)."""

    def _fire(signum: int, frame: Any) -> None:
        raise outcomes.CheckTimeout()

    try:
        previous = signal.signal(signal.SIGALRM, _fire)
    except ValueError:  # not the main thread: rely on the subprocess timeouts alone
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class GradingPlugin:
    """Registered by the engine for one grading run; holds that run's state (never global)."""

    def __init__(
        self, submission_root: Path, labs: list[Lab], python: str | None = None, selection: Collection[str] = ()
    ) -> None:
        self.submission_root = submission_root
        self.labs = labs
        self.python = resolve_python(python)
        self._lab_dirs = [(lab, lab.grader_dir()) for lab in labs]
        # Only these checks run (base ids); empty: all. Each lab's result records its part of it.
        self._selection = frozenset(base_check_id(c) for c in selection)
        self.results: dict[str, LabResult] = {
            lab.id: LabResult(lab.id, lab.title, selection=self._selected_in(lab)) for lab in labs
        }
        self._by_nodeid: dict[str, CheckResult] = {}
        self._specs: dict[str, CheckSpec] = {}
        self._lab_of: dict[str, Lab] = {}
        self._lab_elapsed: dict[str, float] = {lab.id: 0.0 for lab in labs}
        self._submission = Submission(submission_root)
        self._rootpath = Path.cwd()  # pytest's rootdir, once configured

    # -- lookup ------------------------------------------------------------------------------
    def _selected_in(self, lab: Lab) -> tuple[str, ...]:
        return tuple(sorted(c for c in self._selection if check_lab(c) == lab.id))

    def lab_for_path(self, path: Path) -> Lab | None:
        resolved = path.resolve()
        for lab, directory in self._lab_dirs:
            if directory is not None and (resolved == directory.resolve() or directory.resolve() in resolved.parents):
                return lab
        return None

    # -- pytest hooks --------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        self._rootpath = config.rootpath
        config.addinivalue_line("markers", f"{CHECK_MARKER}(spec): a graded check (use graders.sdk.check)")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lab = self.lab_for_path(self._rootpath / str(report.fspath))  # fspath is relative to the rootdir
            if lab is not None:
                self.results[lab.id].notes.append(outcomes.grader_not_loaded_note(lab.id, report.nodeid))
                check = CheckResult(id=f"{lab.id}.grader_loaded", name="Grader suite loads", max_score=lab.points)
                outcomes.record(check, outcomes.grader_not_loaded(str(report.longrepr)))
                self.results[lab.id].checks.append(check)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        kept: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for item in items:
            lab = self.lab_for_path(Path(str(item.path)))
            if lab is None:
                kept.append(item)
                continue
            marker = item.get_closest_marker(CHECK_MARKER)
            spec = marker.args[0] if marker and marker.args else None
            func_name = getattr(item, "originalname", item.name)
            check_id = (
                f"{lab.id}.{(spec.id if isinstance(spec, CheckSpec) else None) or func_name.removeprefix('test_')}"
            )
            if self._selection and base_check_id(check_id) not in self._selection:
                deselected.append(item)  # neither run nor reported
                continue
            kept.append(item)
            if getattr(item, "callspec", None) is not None:
                check_id += f"[{item.callspec.id}]"  # type: ignore[attr-defined]
            self._lab_of[item.nodeid] = lab
            if isinstance(spec, CheckSpec):  # not run until its outcome is recorded
                result = CheckResult(id=check_id, name=spec.name, max_score=spec.points)
                self._specs[item.nodeid] = spec
            else:  # recorded as an error and otherwise ignored: the grader needs fixing
                result = CheckResult(id=check_id, name=item.name, max_score=0.0)
                outcomes.record(result, outcomes.undeclared_check())
            self._by_nodeid[item.nodeid] = result
            self.results[lab.id].checks.append(result)
        if deselected:
            items[:] = kept
            config.hook.pytest_deselected(items=deselected)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        spec = self._specs.get(item.nodeid)
        lab = self._lab_of.get(item.nodeid)
        if spec is None or lab is None:
            yield
            return
        if self._lab_elapsed[lab.id] > lab.timeout_s:
            raise GraderError(
                f"Not run: {lab.id} used up its time budget of {lab.timeout_s:g} s in earlier checks; "
                "make your programs finish faster."
            )
        with _alarm(spec.timeout_s):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        spec = self._specs.get(item.nodeid)
        if spec is None:
            yield
            return
        with _alarm(spec.timeout_s):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        result = self._by_nodeid.get(item.nodeid)
        spec = self._specs.get(item.nodeid)
        lab = self._lab_of.get(item.nodeid)
        if result is None or spec is None or lab is None:
            return
        result.duration_s += report.duration
        self._lab_elapsed[lab.id] += report.duration
        self.results[lab.id].duration_s += report.duration
        if call.when == "teardown":
            if call.excinfo is not None and result.detail is None:
                result.detail = f"teardown: {call.excinfo.exconly()}"
            return
        if call.when == "setup" and call.excinfo is None:
            return
        if call.excinfo is not None:
            decided = outcomes.from_exception(call.excinfo.value, spec.timeout_s)
        else:
            checklist = item.funcargs.get("checklist") if hasattr(item, "funcargs") else None
            if isinstance(checklist, Checklist) and checklist.used:
                decided = outcomes.from_checklist(checklist)
            else:
                decided = outcomes.PASSED
        outcomes.record(
            result, outcomes.finish(decided, str(self.submission_root), lab.student_notebook, spec.section)
        )

    # -- fixtures --------------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def submission(self) -> Submission:
        return self._submission

    @pytest.fixture(scope="session")
    def student_python(self) -> str:
        return self.python

    @pytest.fixture
    def checklist(self) -> Checklist:
        return Checklist()

    @pytest.fixture
    def lab(self, request: pytest.FixtureRequest) -> Lab:
        found = self._lab_of.get(request.node.nodeid)
        if found is None:
            raise GraderError("the 'lab' fixture is only available to checks of a lab's grader suite")
        return found

    # -- result ----------------------------------------------------------------------------------
    def declared_checks(self) -> dict[str, list[tuple[str, CheckSpec]]]:
        """Per lab, the (check id, spec) pairs in collection order (the rubric, without running it)."""
        by_id = {result.id: self._specs[node] for node, result in self._by_nodeid.items() if node in self._specs}
        return {
            lab_id: [(c.id, by_id[c.id]) for c in result.checks if c.id in by_id]
            for lab_id, result in self.results.items()
        }

    def report(self) -> GradeReport:
        return GradeReport(labs=[self.results[lab.id] for lab in self.labs], submission=str(self.submission_root))
