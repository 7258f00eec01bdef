"""The structure tests fail on realistic mistakes: each one is run on a damaged copy of a real notebook.

A convention that no test can fail protects nothing; these cases prove that the tests of
``test_structure.py`` catch what they are meant to catch, with a message that names the notebook.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from graders.engine.labs import Lab
from graders.instructor import rubric

from . import support, test_structure

WRITTEN = support.written_labs()
pytestmark = pytest.mark.skipif(not WRITTEN, reason="no lab notebook is written yet")


def damaged_copy(tmp_path: Path, change: Callable[[Any], None], sync_pair: bool = True) -> Lab:
    """A copy of the first written lab whose notebook went through ``change`` (and its pair, unless told)."""
    lab = WRITTEN[0]
    folder = tmp_path / "labs" / lab.id
    folder.mkdir(parents=True)
    shutil.copyfile(support.LABS / "jupytext.toml", tmp_path / "labs" / "jupytext.toml")
    copy = dataclasses.replace(lab, directory=folder)
    notebook = nbformat.read(str(lab.notebook_path), as_version=4)
    change(notebook)
    nbformat.write(notebook, str(copy.notebook_path))
    pair = rubric.text_pair(copy.notebook_path)
    if sync_pair:
        pair.write_text(rubric.text_form(notebook, pair), encoding="utf-8")
    else:
        shutil.copyfile(rubric.text_pair(lab.notebook_path), pair)
    return copy


def cell_with(notebook: Any, text: str) -> Any:
    return next(cell for cell in notebook.cells if text in cell.source)


def rename_heading(notebook: Any) -> None:
    title = support.blueprint()["labs"][WRITTEN[0].id]["key_sections"][1]
    cell = next(c for c in notebook.cells if c.source.startswith(f"## {title}"))
    cell.source = cell.source.replace("## ", "## Renamed: ", 1)


def hard_code_the_plant(notebook: Any) -> None:
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    cells[1].source += '\nprint("RVB01")'


def commit_outputs(notebook: Any) -> None:
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", text="ran once\n")]
    cell.execution_count = 1


def stale_rubric(notebook: Any) -> None:
    cell = cell_with(notebook, rubric.BEGIN)
    cell.source = cell.source.replace("| assignment |", "| bonus |", 1)


def drop_a_constraint(notebook: Any) -> None:
    cell = cell_with(notebook, "## Factory narrative")
    cell.source = cell.source.replace("GPU scarcity", "GPU budget")


def invent_a_person(notebook: Any) -> None:
    cell = cell_with(notebook, "## Factory narrative")
    cell.source += "\n\n**Sam Jones (plant manager)** also has opinions."


def remove_the_exercises(notebook: Any) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source:
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if "SOLUTION" not in line and "# STARTER" not in line)


def drop_the_progress_cell(notebook: Any) -> None:
    notebook.cells.pop()


def remote_image(notebook: Any) -> None:
    cell_with(notebook, "## Factory narrative").source += "\n\n![plant](https://example.com/plant.png)"


def short_checklist(notebook: Any) -> None:
    cell = cell_with(notebook, "### Security")
    head, _, rest = cell.source.partition("### Security")
    items, _, tail = rest.partition("### Compliance")
    kept = [line for line in items.splitlines() if not line.startswith("- [ ]")][:3]
    cell.source = head + "### Security" + "\n".join(kept) + "\n- [ ] one item\n\n### Compliance" + tail


CASES = [
    (rename_heading, "test_sections_follow_the_blueprint_in_order", ()),
    (rename_heading, "test_key_sections_explain_and_run_code", ()),
    (hard_code_the_plant, "test_code_cells_read_plant_values_from_the_profile", ()),
    (commit_outputs, "test_outputs_are_stripped", ()),
    (drop_a_constraint, "test_factory_narrative_uses_the_shared_cast_and_constraints", ("reference_profile",)),
    (invent_a_person, "test_factory_narrative_uses_the_shared_cast_and_constraints", ("reference_profile",)),
    (remove_the_exercises, "test_hands_on_exercises_use_solution_markers", ()),
    (drop_the_progress_cell, "test_last_cell_records_progress", ()),
    (remote_image, "test_diagrams_come_from_the_repository", ()),
    (short_checklist, "test_operational_checklists", ()),
]


@pytest.mark.parametrize(("change", "test_name", "extra"), CASES, ids=[f"{c[0].__name__}:{c[1][5:]}" for c in CASES])
def test_a_damaged_notebook_fails_its_test(
    change: Callable[[Any], None],
    test_name: str,
    extra: tuple[str, ...],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    lab = damaged_copy(tmp_path, change)
    test = getattr(test_structure, test_name)
    fixtures = [request.getfixturevalue(name) for name in extra]
    with pytest.raises(AssertionError, match=lab.notebook):
        test(lab, *fixtures)


def test_a_stale_rubric_fails(tmp_path: Path, declared_checks: dict[str, list]) -> None:
    lab = damaged_copy(tmp_path, stale_rubric)
    with pytest.raises(AssertionError, match="the rubric is stale; run `capstone rubric --write"):
        test_structure.test_assignment_states_the_lab_and_its_current_rubric(lab, declared_checks)


def test_a_renamed_grader_section_fails(tmp_path: Path, declared_checks: dict[str, list]) -> None:
    lab = damaged_copy(tmp_path, rename_heading)
    with pytest.raises(AssertionError, match="feedback points to sections that are not headings"):
        test_structure.test_grader_sections_are_headings(lab, declared_checks)


def test_an_unsynced_pair_fails(tmp_path: Path) -> None:
    lab = damaged_copy(tmp_path, invent_a_person, sync_pair=False)
    with pytest.raises(AssertionError, match="run `jupytext --sync"):
        test_structure.test_jupytext_pair_is_in_sync(lab)
