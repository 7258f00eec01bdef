"""The grader and the student repository's own tests agree on lab05's ``parse_line``.

``parse_line`` below is written from the lab05 notebook and the script's docstrings alone, in another
form than the reference's (no ``STATUS`` pattern, no ``_clean_path``, unpacking instead of counting
fields). Put into a copy of the reference, it must score full marks with the grader and pass
``tests/scripts/test_check_pr_docs.py`` of the repository; a realistic wrong one (a rename keeps only
its new path) must fail both, so neither side asks for more, or less, than the lab states.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine.model import LabResult

from .conftest import REFERENCE, failure_report

pytestmark = pytest.mark.slow

GATE = "scripts/check_pr_docs.py"
REPO_TESTS = "tests/scripts/test_check_pr_docs.py"

FROM_THE_NOTEBOOK = '''
def parse_line(line: str, number: int = 1) -> Change | None:
    """One entry of the change list: a plain path or a ``git diff --name-status`` line (None when blank)."""
    text = line.strip()
    if not text:
        return None
    if "\\t" not in text:  # a plain path
        return Change("M", text)
    status, *paths = text.split("\\t")
    letter, score = status[:1], status[1:]
    if letter not in "ACDMRT" or not (score == "" or score.isdigit()):
        raise ChangeListError(f"line {number}: unknown git status {status!r}")
    if letter == "R":  # a rename: old path, then new path
        if len(paths) != 2:
            raise ChangeListError(f"line {number}: a rename needs the old and the new path")
        old, new = paths
        return Change("R", new, old)
    if len(paths) != 1:
        raise ChangeListError(f"line {number}: expected one path after {status}")
    return Change(letter, paths[0])
'''

# The usual mistake: a rename is read as a change to its new path only.
RENAME_LOSES_OLD_PATH = FROM_THE_NOTEBOOK.replace('return Change("R", new, old)', 'return Change("R", new)')


def repo_with(parse_line: str, root: Path) -> Path:
    """A copy of the reference whose gate has ``parse_line`` in place of the reference's."""
    shutil.copytree(
        REFERENCE,
        root,
        ignore=shutil.ignore_patterns(".venv", "var", "mlruns", "__pycache__", ".pytest_cache", ".ruff_cache"),
    )
    script = root / GATE
    text = script.read_text(encoding="utf-8")
    start, end = text.index("def parse_line("), text.index("def parse_changes(")
    assert "# BEGIN SOLUTION lab05" in text[start:end]  # the region the student writes
    script.write_text(text[:start] + parse_line.strip() + "\n\n\n" + text[end:], encoding="utf-8")
    return root


def repo_tests(root: Path) -> subprocess.CompletedProcess[str]:
    """The repository's own tests of the gate, run inside it as the student runs them."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", REPO_TESTS],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_parse_line_written_from_the_notebook_passes_grader_and_repo_tests(
    tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = repo_with(FROM_THE_NOTEBOOK, tmp_path / "repo")
    tests = repo_tests(root)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "xfail" not in tests.stdout  # no TODO left: nothing was excused
    result = grade_lab(root, "lab05")
    assert result.score == result.max_score, failure_report(result)


def test_a_parse_line_that_drops_the_renamed_path_fails_both(
    tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = repo_with(RENAME_LOSES_OLD_PATH, tmp_path / "repo")
    tests = repo_tests(root)
    assert tests.returncode == 1 and "test_parse_line[R087" in tests.stdout, tests.stdout[-4000:]
    renames = {c.id: c for c in grade_lab(root, "lab05").checks}["lab05.gate_handles_renames"]
    assert renames.score < renames.max_score
    assert "rename-out-of-model-code" in renames.feedback
