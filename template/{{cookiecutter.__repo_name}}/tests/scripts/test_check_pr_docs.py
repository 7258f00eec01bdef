"""Tests of the pull request docs gate (scripts/check_pr_docs.py): parsing, the decision and the CLI contract."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.lab("lab05")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_pr_docs.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_pr_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the class is created
    spec.loader.exec_module(module)
    return module


gate = _load()


def run_main(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """Call main() in-process with captured output (fast); the subprocess tests cover the real entry point."""
    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = gate.main(list(args), stdin=io.BytesIO(stdin.encode()))
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    return code, out.getvalue(), err.getvalue()


# -- parsing ---------------------------------------------------------------------------------------
# What the lab asks for: plain paths and `git diff --name-status` lines (status, TAB, path; a rename has a
# score and two paths), blank lines skipped. Nothing here depends on how parse_line is written.
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("src/copilot/api/routes.py", gate.Change("M", "src/copilot/api/routes.py")),
        ("M\tsrc/copilot/vision/model.py", gate.Change("M", "src/copilot/vision/model.py")),
        ("A\tdocs/runbooks/new.md", gate.Change("A", "docs/runbooks/new.md")),
        ("D\tmlops/train_register.py", gate.Change("D", "mlops/train_register.py")),
        ("R087\tsrc/copilot/rag/prompts.py\tsrc/copilot/rag/templates.py",
         gate.Change("R", "src/copilot/rag/templates.py", "src/copilot/rag/prompts.py")),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_line(line: str, expected: object) -> None:
    assert gate.parse_line(line) == expected


@pytest.mark.parametrize("line", ["R100\tonly-one-path.py", "Z\tsomething.py", "Q\tsomething\tor\tother"])
def test_parse_line_rejects_unusable_entries(line: str) -> None:
    with pytest.raises(gate.ChangeListError):
        gate.parse_line(line, 7)


def test_parse_error_names_the_line() -> None:
    with pytest.raises(gate.ChangeListError, match=r"\b2\b"):
        gate.parse_changes(["M\tREADME.md", "R100\tlonely.py"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("./docs/model-card.md\r\n", "docs/model-card.md"),
        ("src\\copilot\\rag\\prompts.py", "src/copilot/rag/prompts.py"),
        ('"docs/runbooks/caf\\303\\251.md"', "docs/runbooks/café.md"),
        ("docs/my notes.md", "docs/my notes.md"),
    ],
)
def test_clean_path_normalises_what_git_and_windows_write(path: str, expected: str) -> None:
    assert gate._clean_path(path, 1) == expected


@pytest.mark.parametrize("path", ["/etc/passwd", "C:\\Users\\me\\x.py", "  "])
def test_clean_path_refuses_absolute_and_empty_paths(path: str) -> None:
    with pytest.raises(gate.ChangeListError, match="line 3"):
        gate._clean_path(path, 3)


# -- the decision --------------------------------------------------------------------------------------
def verdict_of(*lines: str) -> object:
    return gate.evaluate(gate.parse_changes(lines))


@pytest.mark.parametrize(
    ("lines", "ok"),
    [
        ((), True),
        (("README.md", "terraform/main.tf"), True),
        (("docs/model-card.md",), True),
        (("docs/runbooks/deploy-cloud-run.md", "docs/ci-cd.md"), True),
        (("src/copilot/vision/model.py",), False),
        (("mlops/train_register.py", "docs/model-card.md"), False),
        (("src/copilot/rag/prompts.py", "docs/runbooks/incident.md"), False),
        (("src/copilot/api/routes.py", "docs/model-card.md", "docs/runbooks/deploy-cloud-run.md"), True),
        # a rename out of guarded code still changes guarded code
        (("R100\tsrc/copilot/vision/model.py\tlegacy/model.py",), False),
        (("R100\tsrc/copilot/vision/model.py\tlegacy/model.py", "M\tdocs/model-card.md",
          "R100\tdocs/runbooks/a.md\tdocs/runbooks/b.md"), True),
        # deleting the model card is not an update
        (("M\tsrc/copilot/rag/prompts.py", "D\tdocs/model-card.md", "A\tdocs/runbooks/x.md"), False),
        # near misses of the guarded prefixes are not guarded
        (("src/copilot/apiary.py", "tests/api/test_routes.py", "docs/model-card.md.bak"), True),
    ],
)
def test_evaluate(lines: tuple[str, ...], ok: bool) -> None:
    assert verdict_of(*lines).ok is ok


def test_missing_lists_exactly_what_is_missing() -> None:
    assert verdict_of("src/copilot/rag/prompts.py", "docs/model-card.md").missing == [
        "no runbook under docs/runbooks/ was updated"
    ]
    assert verdict_of("src/copilot/api/routes.py", "docs/runbooks/a.md").missing == [
        "docs/model-card.md was not updated"
    ]


# -- the command line ------------------------------------------------------------------------------
def test_failure_explains_which_code_changed_and_what_is_missing() -> None:
    code, out, _ = run_main("src/copilot/vision/model.py", "docs/model-card.md")
    assert code == 1
    assert "FAILED" in out
    assert "src/copilot/vision/model.py (model code)" in out
    assert "no runbook under docs/runbooks/ was updated" in out
    assert "docs/model-card.md was not updated" not in out


def test_documented_change_passes_and_lists_the_docs() -> None:
    code, out, _ = run_main("--changed-files", "-", stdin="M\tsrc/copilot/api/routes.py\nM\tdocs/model-card.md\n"
                            "A\tdocs/runbooks/deploy-cloud-run.md\n")
    assert code == 0
    assert "docs/runbooks/deploy-cloud-run.md" in out


@pytest.mark.parametrize(("args", "stdin"), [(["--changed-files", "-"], ""), ([], "\n\n")])
def test_empty_change_set_passes_and_says_so(args: list[str], stdin: str) -> None:
    code, out, _ = run_main(*args, stdin=stdin)
    assert code == 0
    assert "empty" in out


def test_changed_files_file(tmp_path: Path) -> None:
    listing = tmp_path / "changed.txt"
    listing.write_text("M\tREADME.md\nR095\tsrc/copilot/rag/prompts.py\tsrc/copilot/rag/templates.py\n")
    code, out, _ = run_main("--changed-files", str(listing))
    assert code == 1
    assert "src/copilot/rag/prompts.py (prompt code)" in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--changed-files", "does-not-exist.txt"], "", "cannot read does-not-exist.txt"),
        (["--changed-files", "-"], "R100\tlonely.py\n", "unusable change list"),
        (["--changed-files", "-"], "M\x00README.md\x00", "NUL-separated"),
    ],
)
def test_unusable_input_exits_2_with_a_reason(args: list[str], stdin: str, message: str) -> None:
    code, out, err = run_main(*args, stdin=stdin)
    assert code == 2
    assert message in err
    assert out == ""


def test_invalid_utf8_is_unusable() -> None:
    out, err = io.StringIO(), io.StringIO()
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = gate.main(["--changed-files", "-"], stdin=io.BytesIO(b"docs/\xff.md\n"))
    finally:
        sys.stdout, sys.stderr = real
    assert code == 2
    assert "not UTF-8" in err.getvalue()


def test_internal_error_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(changes: object) -> object:
        raise KeyError("boom")

    monkeypatch.setattr(gate, "evaluate", broken)
    code, _, err = run_main("src/copilot/api/routes.py")
    assert code == 2
    assert "failing closed" in err
    assert "Traceback" not in err


def test_github_annotation_on_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run_main("src/copilot/rag/prompts.py")
    assert code == 1
    assert "::error title=PR docs gate::" in out


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (["docs/model-card.md"], "", 0),
        (["--changed-files", "-"], "M\tsrc/copilot/vision/model.py\n", 1),
        ([], "R100\tsrc/copilot/vision/model.py\tlegacy/model.py\n", 1),
        (["--changed-files", "missing.txt"], "", 2),
    ],
)
def test_script_entry_point(tmp_path: Path, args: list[str], stdin: str, code: int) -> None:
    """The file runs as a script with the documented exit codes (what CI and the grader call)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
