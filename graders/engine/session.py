"""Running the grader suites of the selected labs over one submission, in this process.

Pytest is driven with the kit's own configuration only: an explicit ini file, a conftest search
that stops at the graders' folder, no plugin auto-loading and no cache. Nothing in the submission
(a conftest.py, pytest.ini, pyproject.toml, sitecustomize.py or an installed plugin) can change
which checks run or how they score.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from graders.engine.cache import GradeCache
from graders.engine.labs import Lab, load_catalog, select
from graders.engine.model import GradeReport, LabResult
from graders.engine.plugin import GradingPlugin
from graders.sdk.checks import CheckSpec

KIT_INI = Path(__file__).with_name("pytest.ini")
# Environment variables through which pytest could be told to load something else.
_PYTEST_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DEBUG", "PYTEST_CURRENT_TEST")


class EngineError(Exception):
    """The grader itself cannot run (bad arguments, unusable installation); exit non-zero."""


@contextlib.contextmanager
def _isolated_pytest_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*_PYTEST_ENV, "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    for key in _PYTEST_ENV:
        os.environ.pop(key, None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _quiet(enabled: bool) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    if not enabled:
        yield buffer
        return
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def pytest_args(grader_dirs: list[Path], basetemp: Path) -> list[str]:
    root = Path(os.path.commonpath([str(d) for d in grader_dirs])) if len(grader_dirs) > 1 else grader_dirs[0]
    return [
        *[str(d) for d in grader_dirs],
        "-c",
        str(KIT_INI),
        "--rootdir",
        str(root),
        "--confcutdir",
        str(root),
        "--basetemp",
        str(basetemp),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "no:pastebin",
        "-p",
        "no:legacypath",
        "--assert=plain",
        "--tb=no",
        "-q",
        "--no-header",
        "--disable-warnings",
    ]


def collect_checks(labs: list[Lab]) -> dict[str, list[tuple[str, CheckSpec]]]:
    """The checks each lab declares (id and spec, in order), collected without running them.

    Used for rubrics (notebooks, README), the points-add-up test and ``capstone verify``.
    """
    plugin = GradingPlugin(Path(tempfile.gettempdir()), labs)
    grader_dirs = [d for d in (lab.grader_dir() for lab in labs) if d is not None]
    if grader_dirs:
        with (
            tempfile.TemporaryDirectory(prefix="capstone-collect-") as tmp,
            _isolated_pytest_env(),
            _cwd(Path(tmp)),
            _quiet(True) as output,
        ):
            code = pytest.main([*pytest_args(grader_dirs, Path(tmp) / "basetemp"), "--collect-only"], plugins=[plugin])
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            raise EngineError(f"could not collect the grader suites (exit {int(code)}):\n{output.getvalue()[-2000:]}")
    return plugin.declared_checks()


def grade_labs(
    submission: Path,
    labs: list[Lab],
    python: str | None = None,
    quiet: bool = True,
    jobs: int = 1,
    cacheable: bool = False,
) -> GradeReport:
    """Grade ``labs`` over ``submission`` and return the report (labs without a grader show a note).

    With ``jobs`` > 1 the labs are graded side by side in worker processes (see ``parallel``).
    ``cacheable``: the caller grades an unmodified environment (reference, starter, mutants), so the
    kit's test cache may answer when it is switched on (see ``cache``).
    """
    root = submission.absolute()
    if not root.is_dir():
        raise EngineError(f"{submission}: not a folder; pass the path of the capstone repository to grade")
    cache = GradeCache.from_env() if cacheable else None
    if cache is not None:
        return _grade_cached(cache, root, labs, python, quiet, jobs)
    return _grade_fresh(root, labs, python, quiet, jobs)


def _grade_fresh(root: Path, labs: list[Lab], python: str | None, quiet: bool, jobs: int) -> GradeReport:
    """Grade without the cache: side by side in worker processes when ``jobs`` > 1 and labs > 1."""
    if jobs > 1 and len(labs) > 1:
        from graders.engine.parallel import grade_labs_parallel

        return grade_labs_parallel(root, labs, python, jobs)
    return _grade_uncached(root, labs, python, quiet)


def _grade_uncached(root: Path, labs: list[Lab], python: str | None, quiet: bool) -> GradeReport:
    """One pytest session over the selected labs' suites, in this process."""
    plugin = GradingPlugin(root, labs, python)
    runnable = [(lab, lab.grader_dir()) for lab in labs]
    grader_dirs = [d for _, d in runnable if d is not None]
    for lab, directory in runnable:
        if directory is None:
            plugin.results[lab.id].notes.append(f"No grader suite is installed for {lab.id} ({lab.grader}).")
    if grader_dirs:
        with (
            tempfile.TemporaryDirectory(prefix="capstone-grade-") as tmp,
            _isolated_pytest_env(),
            _cwd(Path(tmp)),
            _quiet(quiet) as output,
        ):
            code = pytest.main(pytest_args(grader_dirs, Path(tmp) / "basetemp"), plugins=[plugin])
        if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            raise EngineError(
                f"pytest could not run the grader suites (exit {int(code)}):\n{output.getvalue()[-2000:]}"
            )
    return plugin.report()


def _grade_cached(
    cache: GradeCache, root: Path, labs: list[Lab], python: str | None, quiet: bool, jobs: int = 1
) -> GradeReport:
    """Through the kit's test cache (see ``cache``): identical trees are graded once per lab.

    The entries of the labs still to grade stay locked (in key order: no deadlock between workers)
    while they are graded, together and side by side when ``jobs`` > 1.
    """
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
            fresh = _grade_fresh(root, missing, python, quiet, jobs)
            for lab in missing:
                found[lab.id] = fresh.lab(lab.id)
                cache.write(entries[lab.id], found[lab.id])
    return GradeReport(labs=[found[lab.id] for lab in labs], submission=str(root))


def grade(
    submission: Path,
    lab_ids: list[str] | None = None,
    python: str | None = None,
    labs_dir: Path | None = None,
    quiet: bool = True,
    jobs: int = 1,
) -> GradeReport:
    """Grade a capstone repository lab by lab (all labs when ``lab_ids`` is empty)."""
    labs = select(load_catalog(labs_dir), lab_ids)
    return grade_labs(submission, labs, python=python, quiet=quiet, jobs=jobs)


def check_isolation(submission: Path) -> None:
    """Refuse to grade when this grader process has already imported code from the submission."""
    root = os.path.realpath(submission)
    for name in ("sitecustomize", "usercustomize", "graders"):
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) or ""
        if origin and os.path.realpath(origin).startswith(root + os.sep):
            raise EngineError(
                f"the grader imported {name} from the submission ({origin}); install the grader in its own "
                "environment (not the student's) and run it from outside the repository"
            )
