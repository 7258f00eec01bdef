"""Kit-wide test setup.

* The fixture grader suites in tests/fixtures are importable.
* ``grade_cache``: one grade cache (graders.engine.cache) per test run, shared by the xdist
  workers, so the reference, the starter and each mutant and variant are graded once however many
  tests look at them. ``CAPSTONE_TEST_GRADE_CACHE=<folder>`` picks the folder (``make test`` passes
  the same folder to the ``capstone verify`` test that runs after the suite, which then reads the
  grades the suite made). Tests that change the grader's environment grade without it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from graders.engine.cache import GradeCache

FIXTURES = Path(__file__).parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

CACHE_PREFIX = "capstone-grade-cache-"
CACHE_ENV = "CAPSTONE_TEST_GRADE_CACHE"

# The fixture graders are grader suites (run by the engine on a submission), not kit tests.
collect_ignore = ["fixtures"]


def _remove_stale_caches(older_than_s: float = 86_400) -> None:
    for old in Path(tempfile.gettempdir()).glob(CACHE_PREFIX + "*"):
        if time.time() - old.stat().st_mtime > older_than_s:
            shutil.rmtree(old, ignore_errors=True)


def grade_cache_dir() -> Path:
    """This test run's cache folder: the one named by the environment, else one per run (the xdist
    workers of one run share ``PYTEST_XDIST_TESTRUNUID``; a run without xdist is one process)."""
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    return Path(tempfile.gettempdir()) / f"{CACHE_PREFIX}{run}"


@pytest.fixture(scope="session")
def grade_cache() -> GradeCache:
    """The grade cache of this test run: pass it to ``cache.cached_grade`` and ``mutants.grade_change``."""
    return GradeCache(grade_cache_dir())


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        _remove_stale_caches()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/reports/goldens from the current report renderers (review the diff)",
    )
