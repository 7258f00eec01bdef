"""Kit-wide test setup.

* The fixture grader suites in tests/fixtures are importable.
* The grade cache (graders.engine.cache) is switched on for this test session, shared by xdist
  workers: the reference, the starter and each mutant are graded once however many tests (and
  ``capstone verify``) look at them. Tests that change the grader's environment grade uncached.
* Lab 01's MLflow runs are reused across variants that change no program input (its grader's
  test-only switch, ``graders.lab01.scenario.REUSE_ENV``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from graders.engine.cache import ENV as GRADE_CACHE_ENV

FIXTURES = Path(__file__).parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

CACHE_PREFIX = "capstone-grade-cache-"

# The fixture graders are grader suites (run by the engine on a submission), not kit tests.
collect_ignore = ["fixtures"]


def _remove_stale_caches(older_than_s: float = 86_400) -> None:
    for old in Path(tempfile.gettempdir()).glob(CACHE_PREFIX + "*"):
        if time.time() - old.stat().st_mtime > older_than_s:
            shutil.rmtree(old, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    if GRADE_CACHE_ENV not in os.environ:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
        os.environ[GRADE_CACHE_ENV] = str(Path(tempfile.gettempdir()) / f"{CACHE_PREFIX}{run}")
    os.environ.setdefault("CAPSTONE_LAB01_REUSE_SCENARIO", "1")
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        _remove_stale_caches()
