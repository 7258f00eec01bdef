"""The lab notebooks follow the blueprint and the kit's conventions (labs/README.md), without running them.

Every test is parametrized over the notebooks that exist, so a newly written notebook is checked
without anyone adding it here; ``labs/_shared/blueprint.yaml`` says what each one must contain.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graders.engine.labs import Lab
from graders.instructor import build, markers, rubric, variables

from . import support

CATALOG = support.catalog()
BLUEPRINT = support.blueprint()
CAST = support.cast()
WRITTEN = [pytest.param(lab, id=lab.id) for lab in support.written_labs()]
# Notebook metadata that may be committed: the kernel, and jupytext's record of the pairing filters.
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "jupytext", "language_info"}
CHECKBOX = re.compile(r"^- \[ \] \S", re.M)
PERSON = re.compile(r"\*\*([A-Z][\w'-]+(?: [A-Z][\w'-]+)+) \(([^)]+)\)\*\*")


def notebook(lab: Lab) -> Any:
    return support.read_notebook(lab)


def section_text(lab: Lab, title: str) -> str:
    return "\n".join(cell.source for cell in support.sections(notebook(lab))[title])


def expected_h2(lab: Lab) -> list[str]:
    entry = BLUEPRINT["labs"][lab.id]
    order: list[str] = []
    for title in BLUEPRINT["common_sections"]:
        if title == "{key_sections}":
            order.extend(entry["key_sections"])
        elif title == "{assignment}":
            order.append(entry["assignment"])
        else:
            order.append(title)
    return order


# -- the blueprint data itself ---------------------------------------------------------------------
def test_blueprint_lists_every_lab_of_the_catalogue() -> None:
    assert set(BLUEPRINT["labs"]) == set(CATALOG), "labs/_shared/blueprint.yaml and labs/*/lab.yaml disagree"
    for lab_id, entry in BLUEPRINT["labs"].items():
        assert entry["assignment"].startswith("Lab: "), f"{lab_id}: the assignment heading starts with 'Lab: '"
        assert len(entry["key_sections"]) >= 5, f"{lab_id}: the blueprint names at least five key sections"


@pytest.mark.parametrize("lab_id", sorted(CATALOG))
def test_every_grader_section_is_a_blueprint_heading(lab_id: str, declared_checks: dict[str, list]) -> None:
    """A check's `section=` points students to a heading: it must be one the notebook is required to have."""
    entry = BLUEPRINT["labs"][lab_id]
    headings = {*entry["key_sections"], entry["assignment"]}
    sections = {spec.section for _, spec in declared_checks.get(lab_id, []) if spec.section}
    unknown = sorted(sections - headings)
    assert not unknown, (
        f"{lab_id}: the grader names sections that labs/_shared/blueprint.yaml does not list: {unknown}; "
        "add them to key_sections (or rename the section= of the checks)"
    )


def test_no_stray_notebooks() -> None:
    """Each lab folder holds exactly the notebook its lab.yaml names (the build copies every .ipynb)."""
    for lab in CATALOG.values():
        stray = [p.name for p in lab.directory.glob("*.ipynb") if p.name != lab.notebook]
        assert not stray, f"labs/{lab.id}: {stray} is not the notebook lab.yaml names ({lab.notebook})"


# -- files ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lab", WRITTEN)
def test_outputs_are_stripped(lab: Lab) -> None:
    nb = notebook(lab)
    for index, cell in enumerate(nb.cells, start=1):
        assert not cell.get("metadata"), f"{lab.notebook} cell {index}: cell metadata must be empty"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{lab.notebook} cell {index}: outputs are committed; clear them (jupyter nbconvert "
                "--clear-output, or save from jupytext)"
            )
    extra = set(nb.metadata) - ALLOWED_NOTEBOOK_METADATA
    assert not extra, f"{lab.notebook}: notebook metadata {sorted(extra)} must not be committed"


@pytest.mark.parametrize("lab", WRITTEN)
def test_jupytext_pair_is_in_sync(lab: Lab) -> None:
    pair = rubric.text_pair(lab.notebook_path)
    assert pair.is_file(), f"labs/{lab.id}/{pair.name} is missing: run `jupytext --sync {lab.notebook_path}`"
    assert rubric.in_sync(lab.notebook_path), (
        f"labs/{lab.id}/{pair.name} and {lab.notebook} differ: run `jupytext --sync labs/{lab.id}/{lab.notebook}`"
    )


def test_pairing_is_configured_once_for_all_labs() -> None:
    config = (support.LABS / "jupytext.toml").read_text(encoding="utf-8")
    assert 'formats = "ipynb,py:percent"' in config


# -- sections ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lab", WRITTEN)
def test_title_names_the_lab(lab: Lab) -> None:
    first = support.headings(notebook(lab))[0]
    assert (first.level, first.text) == (1, f"Notebook {lab.number:02d} · {lab.title}")


@pytest.mark.parametrize("lab", WRITTEN)
def test_sections_follow_the_blueprint_in_order(lab: Lab) -> None:
    found = [h.text for h in support.headings(notebook(lab)) if h.level == 2]
    assert found == expected_h2(lab), (
        f"{lab.notebook}: the level-2 headings must be, in order, {expected_h2(lab)} (labs/_shared/blueprint.yaml)"
    )


@pytest.mark.parametrize("lab", WRITTEN)
def test_each_section_starts_its_own_cell(lab: Lab) -> None:
    """A level-2 heading is the first line of its Markdown cell, so a section is a run of whole cells."""
    nb = notebook(lab)
    for heading in support.headings(nb):
        if heading.level <= 2:
            assert nb.cells[heading.cell].source.lstrip().startswith("#"), (
                f"{lab.notebook}: start a new Markdown cell for the heading {heading.text!r}"
            )


@pytest.mark.parametrize("lab", WRITTEN)
def test_grader_sections_are_headings(lab: Lab, declared_checks: dict[str, list]) -> None:
    headings = {h.text for h in support.headings(notebook(lab))}
    missing = sorted({spec.section for _, spec in declared_checks[lab.id] if spec.section} - headings)
    assert not missing, f"{lab.notebook}: the grader's feedback points to sections that are not headings: {missing}"


@pytest.mark.parametrize("lab", WRITTEN)
def test_objectives_and_business_impact(lab: Lab) -> None:
    text = section_text(lab, "Learning objectives and business impact")
    missing = [objective for objective in lab.objectives if objective not in text]
    assert not missing, f"{lab.notebook}: list lab.yaml's objectives verbatim; missing {missing}"
    assert "**Business impact.**" in text


@pytest.mark.parametrize("lab", WRITTEN)
def test_factory_narrative_uses_the_shared_cast_and_constraints(lab: Lab, reference_profile: dict) -> None:
    text = " ".join(section_text(lab, "Factory narrative").split())
    assert reference_profile["company"] in text and CAST["company"] == reference_profile["company"]
    assert reference_profile["plant"]["name"] in text and reference_profile["plant"]["code"] in text
    cast = {person["name"]: person["role"] for person in CAST["people"]}
    named = [(name, role) for name, role in PERSON.findall(text) if name != reference_profile["plant"]["name"]]
    wrong = [(name, role) for name, role in named if cast.get(name) != role]
    assert not wrong, f"{lab.notebook}: people outside labs/_shared/cast.yaml, or with another role: {wrong}"
    assert len(named) >= 3, f"{lab.notebook}: introduce at least three stakeholders as **Name (role)**"
    missing = [c for c in CAST["constraints"] if c.lower() not in text.lower()]
    assert not missing, f"{lab.notebook}: the narrative does not name the constraints {missing}"
    assert "```mermaid" in text or "](" in text, f"{lab.notebook}: the narrative has a diagram"


@pytest.mark.parametrize("lab", WRITTEN)
def test_key_sections_explain_and_run_code(lab: Lab) -> None:
    sections = support.sections(notebook(lab))
    for title in BLUEPRINT["labs"][lab.id]["key_sections"]:
        assert title in sections, f"{lab.notebook}: the key section {title!r} is missing"
        cells = sections[title]
        explanation = cells[0].source.split("\n", 1)[1].strip() if "\n" in cells[0].source else ""
        assert len(explanation) > 200, f"{lab.notebook}: section {title!r} needs an explanation under its heading"
        assert any(c.cell_type == "code" for c in cells), f"{lab.notebook}: section {title!r} has no code cell"


@pytest.mark.parametrize("lab", WRITTEN)
def test_operational_checklists(lab: Lab) -> None:
    nb = notebook(lab)
    cells = support.sections(nb)["Operational checklists"]
    text = "\n".join(c.source for c in cells)
    for title in BLUEPRINT["checklists"]:
        part = re.split(rf"^### {re.escape(title)}\s*$", text, flags=re.M)
        assert len(part) == 2, f"{lab.notebook}: 'Operational checklists' needs a '### {title}' heading"
        items = CHECKBOX.findall(re.split(r"^### ", part[1], flags=re.M)[0])
        assert len(items) >= 3, f"{lab.notebook}: the {title} checklist needs at least three '- [ ]' items"


@pytest.mark.parametrize("lab", WRITTEN)
def test_assignment_states_the_lab_and_its_current_rubric(lab: Lab, declared_checks: dict[str, list]) -> None:
    title = BLUEPRINT["labs"][lab.id]["assignment"]
    text = " ".join(section_text(lab, title).split())
    assert lab.assignment_title in text
    assert " ".join(lab.assignment_summary.split()).lower() in text.lower()
    assert f"make grade LAB={lab.id}" in text
    current = rubric.current(notebook(lab), str(lab.notebook_path))
    assert current in section_text(lab, title), f"{lab.notebook}: the rubric belongs in the assignment section"
    assert current == rubric.render(lab, declared_checks[lab.id]), (
        f"{lab.notebook}: the rubric is stale; run `capstone rubric --write --lab {lab.id}`"
    )


@pytest.mark.parametrize("lab", WRITTEN)
def test_references_to_prior_weeks_and_external_docs(lab: Lab) -> None:
    text = section_text(lab, "References")
    missing = [week for week in BLUEPRINT["prior_weeks"] if week not in text]
    assert not missing, f"{lab.notebook}: References must point back to {missing}"
    missing = [url for url in lab.references if url not in text]
    assert not missing, f"{lab.notebook}: References must include lab.yaml's references {missing}"
    assert len(re.findall(r"https://", text)) >= 5, f"{lab.notebook}: cite at least five external documents"


# -- code cells -------------------------------------------------------------------------------------
def code_cells(lab: Lab) -> list[Any]:
    return [c for c in notebook(lab).cells if c.cell_type == "code"]


@pytest.mark.parametrize("lab", WRITTEN)
def test_first_code_cell_is_the_shared_setup(lab: Lab) -> None:
    first = code_cells(lab)[0].source
    assert first == support.shared_cell("setup_cell.py", lab.id), (
        f"{lab.notebook}: the first code cell must be labs/_shared/setup_cell.py with LAB = \"{lab.id}\""
    )


@pytest.mark.parametrize("lab", WRITTEN)
def test_last_cell_records_progress(lab: Lab) -> None:
    last = notebook(lab).cells[-1]
    assert last.cell_type == "code" and last.source == support.shared_cell("progress_cell.py", lab.id), (
        f"{lab.notebook}: the last cell must be labs/_shared/progress_cell.py"
    )


@pytest.mark.parametrize("lab", WRITTEN)
def test_code_cells_read_plant_values_from_the_profile(lab: Lab) -> None:
    """Example plant values in code would survive templating as someone else's plant: read config/plant.yaml."""
    for index, cell in enumerate(code_cells(lab), start=1):
        found = {cell.source[s.start : s.end] for s in variables.find(cell.source, lab.notebook)}
        assert not found, f"{lab.notebook} code cell {index}: hard-coded plant values {sorted(found)}"


def _compiles(source: str, where: str) -> None:
    try:
        compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        pytest.fail(f"{where}: {exc}")


@pytest.mark.parametrize("lab", WRITTEN)
def test_hands_on_exercises_use_solution_markers(lab: Lab) -> None:
    nb = notebook(lab)
    regions = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            _compiles(cell.source, f"{lab.notebook} cell {index}")
            regions += markers.parse(cell.source, "hash", f"{lab.notebook} cell {index}", set(CATALOG)).regions
    assert regions, f"{lab.notebook}: no hands-on exercise (# BEGIN SOLUTION {lab.id}) in a code cell"
    assert {r.lab for r in regions} == {lab.id}, f"{lab.notebook}: solution regions belong to {lab.id} only"


@pytest.mark.parametrize("lab", WRITTEN)
def test_student_copy_strips_the_answers_and_still_compiles(lab: Lab) -> None:
    import nbformat

    stripped = nbformat.reads(build.strip_notebook(lab.notebook_path, lab.notebook, set(CATALOG)), as_version=4)
    for index, cell in enumerate(stripped.cells, start=1):
        if cell.cell_type == "code":
            assert "BEGIN SOLUTION" not in cell.source
            _compiles(cell.source, f"student copy of {lab.notebook} cell {index}")
    assert f"TODO({lab.id})" in "".join(c.source for c in stripped.cells)


@pytest.mark.parametrize("lab", WRITTEN)
def test_diagrams_come_from_the_repository(lab: Lab) -> None:
    text = "\n".join(c.source for c in notebook(lab).cells if c.cell_type == "markdown")
    remote = re.findall(r"!\[[^\]]*\]\((https?://[^)]+)\)", text)
    assert not remote, f"{lab.notebook}: images must be Mermaid or files in the repository, not {remote}"
    assert "```mermaid" in text


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="ruff is not installed")
def test_notebooks_are_lint_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    done = subprocess.run([ruff, "check", "--no-cache", "labs"], cwd=support.KIT_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
