"""The one place pytest runs over grader suites: in this process, with the kit's configuration only.

Pytest is driven with an explicit ini file, a conftest search that stops at the graders' folder, no
plugin auto-loading and no cache, from an empty temporary folder. Nothing in the submission (a
conftest.py, pytest.ini, pyproject.toml, sitecustomize.py or an installed plugin) can change which
checks run or how they score. Grading and rubric collection both go through :func:`run_suites`.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

KIT_INI = Path(__file__).with_name("pytest.ini")
# Environment variables through which pytest could be told to load something else.
_PYTEST_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DEBUG", "PYTEST_CURRENT_TEST")
# Exit codes that mean pytest itself could not run (a failing check is an ordinary outcome).
_BROKEN = (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR)


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
        # Its only effect here is a full garbage collection at the end of every grading (0.2-0.5 s in a
        # process holding checkov and MLflow): warnings are not shown to anyone.
        "-p",
        "no:unraisableexception",
        "--assert=plain",
        "--tb=no",
        "-q",
        "--no-header",
        "--disable-warnings",
    ]


def run_suites(grader_dirs: list[Path], plugin: object, *, quiet: bool = True, collect_only: bool = False) -> None:
    """Run (or only collect) the suites in ``grader_dirs`` with ``plugin`` recording what happens.

    Raises EngineError when pytest could not run at all; check outcomes are the plugin's business.
    """
    if not grader_dirs:
        return
    purpose = "collect" if collect_only else "grade"
    with (
        tempfile.TemporaryDirectory(prefix=f"capstone-{purpose}-") as tmp,
        _isolated_pytest_env(),
        _cwd(Path(tmp)),
        _quiet(quiet) as output,
    ):
        args = pytest_args(grader_dirs, Path(tmp) / "basetemp") + (["--collect-only"] if collect_only else [])
        code = pytest.main(args, plugins=[plugin])
    broken = code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) if collect_only else code in _BROKEN
    if broken:
        tail = output.getvalue()[-2000:]
        raise EngineError(f"pytest could not {purpose} the grader suites (exit {int(code)}):\n{tail}")
