"""The rubric generated from the graders: its table, where it lives in a notebook, and `capstone rubric`."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from graders.cli import main
from graders.engine.labs import load_catalog
from graders.instructor import rubric
from graders.sdk.checks import CheckSpec

from . import support

FIXTURE_LAB = load_catalog(support.KIT_ROOT / "tests" / "fixtures" / "labs")[0]
CHECKS = [
    ("lab01.readme", CheckSpec(points=2, name="README exists", section="Getting started")),
    ("lab01.config", CheckSpec(points=4, name="Config has a | pipe", assignment=True, section="Lab: config")),
    ("lab01.lines", CheckSpec(points=1.5, name="Lines are listed")),
]
WRITTEN = support.written_labs()


def test_render_puts_the_assignment_first_and_adds_up() -> None:
    block = rubric.render(FIXTURE_LAB, CHECKS)
    lines = block.splitlines()
    assert lines[0] == rubric.BEGIN and lines[-1] == rubric.END
    rows = [line for line in lines if line.startswith("| ") and "| ---" not in line]
    assert rows[-4:] == [
        "| Config has a \\| pipe | 4 | assignment | Lab: config |",
        "| README exists | 2 | lab | Getting started |",
        "| Lines are listed | 1.5 | lab |  |",
        "| **total** (4 for the assignment) | **7.5** | | |",
    ]
    assert "| `config.yaml` | configuration the fixture checks read |" in block
    assert "`make grade LAB=lab01`" in block


def test_a_lab_without_checks_has_no_rubric() -> None:
    with pytest.raises(rubric.RubricError, match="lab01: the grader declares no checks"):
        rubric.render(FIXTURE_LAB, [])


def _notebook(*sources: str, kind: str = "markdown") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    maker = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    nb.cells = [maker(source) for source in sources]
    return nb


@pytest.mark.parametrize(
    ("sources", "kind", "message"),
    [
        (("no markers here",), "markdown", "expected one rubric block, found 0"),
        ((f"{rubric.BEGIN}\n{rubric.END}", f"{rubric.BEGIN}\n{rubric.END}"), "markdown", "found 2"),
        ((f"{rubric.END}\n{rubric.BEGIN}",), "markdown", "cell 1: the rubric needs exactly one"),
        ((f"{rubric.BEGIN}\nno end",), "markdown", "cell 1: the rubric needs exactly one"),
        ((f"# {rubric.BEGIN}\n# {rubric.END}",), "code", "in a Markdown cell"),
    ],
    ids=["missing", "twice", "reversed", "unclosed", "code-cell"],
)
def test_a_misplaced_rubric_is_named_with_the_fix(sources: tuple[str, ...], kind: str, message: str) -> None:
    with pytest.raises(rubric.RubricError, match=message) as caught:
        rubric.locate(_notebook(*sources, kind=kind), "labs/lab09/x.ipynb")
    assert str(caught.value).startswith("labs/lab09/x.ipynb")


def test_replaced_keeps_the_text_around_the_block() -> None:
    nb = _notebook("# Title", f"Intro\n\n{rubric.BEGIN}\nold\n{rubric.END}\n\nAfter")
    updated = rubric.replaced(nb, f"{rubric.BEGIN}\nnew\n{rubric.END}", "x.ipynb")
    assert updated.cells[1].source == f"Intro\n\n{rubric.BEGIN}\nnew\n{rubric.END}\n\nAfter"
    assert nb.cells[1].source.count("old") == 1  # the original is not modified


@pytest.fixture
def labs_copy(tmp_path: Path) -> Path:
    """A copy of labs/ (notebooks, pairs, jupytext.toml) that the tests may change."""
    target = tmp_path / "labs"
    shutil.copytree(support.LABS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.skipif(not WRITTEN, reason="no lab notebook is written yet")
def test_write_refreshes_a_stale_rubric_in_both_files(labs_copy: Path, declared_checks: dict[str, list]) -> None:
    lab = WRITTEN[0]
    path = labs_copy / lab.id / lab.notebook
    pair = rubric.text_pair(path)
    block = rubric.render(lab, declared_checks[lab.id])
    stale = block.replace("| assignment |", "| homework |", 1)
    assert rubric.write(path, stale) is True
    assert rubric.in_sync(path) and "| homework |" in pair.read_text(encoding="utf-8")
    assert rubric.write(path, block) is True
    assert rubric.write(path, block) is False  # already current: nothing is rewritten
    assert path.read_bytes() == lab.notebook_path.read_bytes()
    assert pair.read_bytes() == rubric.text_pair(lab.notebook_path).read_bytes()


@pytest.mark.skipif(not WRITTEN, reason="no lab notebook is written yet")
def test_write_refuses_a_pair_that_is_out_of_sync(labs_copy: Path, declared_checks: dict[str, list]) -> None:
    lab = WRITTEN[0]
    path = labs_copy / lab.id / lab.notebook
    pair = rubric.text_pair(path)
    pair.write_text(pair.read_text(encoding="utf-8") + "\n# %%\nprint('edited in the text form')\n", encoding="utf-8")
    with pytest.raises(rubric.RubricError, match="out of sync; run `jupytext --sync"):
        rubric.write(path, rubric.render(lab, declared_checks[lab.id]))
    assert "edited in the text form" in pair.read_text(encoding="utf-8")  # nothing was lost


@pytest.mark.skipif(not WRITTEN, reason="no lab notebook is written yet")
def test_rubric_check_command_fails_on_a_stale_notebook(
    labs_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = WRITTEN[0]
    assert main(["rubric", "--check", "--labs-dir", str(labs_copy)]) == 0
    assert f"{len(WRITTEN)} notebook rubric(s) current" in capsys.readouterr().out
    path = labs_copy / lab.id / lab.notebook
    nb = nbformat.read(str(path), as_version=4)
    where = rubric.locate(nb, str(path))
    nb.cells[where.cell].source = nb.cells[where.cell].source.replace("| **total**", "| **sum**")
    nbformat.write(nb, str(path))
    assert main(["rubric", "--check", "--labs-dir", str(labs_copy)]) == 1
    out = capsys.readouterr().out
    assert f"the rubric is stale; run `capstone rubric --write --lab {lab.id}`" in out


def test_rubric_command_prints_every_lab(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubric", "--lab", "lab04", "--lab", "lab08"]) == 0
    out = capsys.readouterr().out
    assert out.count(rubric.BEGIN) == 2 and "## lab04:" in out and "## lab08:" in out


def test_rubric_command_names_an_unknown_lab(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubric", "--lab", "lab42"]) == 1
    assert "unknown lab id(s): lab42" in capsys.readouterr().err
