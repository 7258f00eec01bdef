"""Round trip: the template with the solutions kept, rendered with the example answers, is the reference.

Rendered by copier and by cookiecutter; compared byte for byte, executable bits included. Files whose
own content holds ``{{``, ``{%`` or ``{#`` (workflows, Helm, Prometheus, Grafana) are listed
separately, so a regression in the escaping names them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.instructor import build, render, sources
from graders.instructor.copier_config import load_hook

from .conftest import KIT, executable_files, tree

REFERENCE = KIT / "reference_solution"
post = load_hook(KIT / "hooks", "post_gen_project")
# One worker renders the two trees once for the module's tests (about 12 s).
pytestmark = pytest.mark.xdist_group("round-trip")


@pytest.fixture(scope="module")
def reference_tree(solutions_build: build.BuildResult) -> dict[str, bytes]:
    files = {rel: (REFERENCE / rel).read_bytes() for rel in sources.reference_files(REFERENCE)}
    files.update({rel: text.encode("utf-8") for rel, text in solutions_build.generated_reference.items()})
    return files


@pytest.fixture(scope="module")
def rendered(solutions_build: build.BuildResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("round-trip")
    with render.staged_source(KIT, solutions_build) as source:
        copier_root = render.render_copier(source, out / "copier", {}, skip_tasks=True)
        cookie_root = render.render_cookiecutter(source, out / "cookiecutter", {}, accept_hooks=False)
        # Without its hooks cookiecutter leaves the three steps that make it match copier; do them here.
        post.copy_course_data(cookie_root, source / "template" / post.COURSE_DATA_DIR)
    post.strip_template_suffix(cookie_root)
    post.remove_empty_answers_file(cookie_root)
    return {"copier": copier_root, "cookiecutter": cookie_root}


@pytest.mark.parametrize("tool", ["copier", "cookiecutter"])
def test_render_with_solutions_kept_is_the_reference(
    tool: str, rendered: dict[str, Path], reference_tree: dict[str, bytes]
) -> None:
    got = tree(rendered[tool])
    got.pop(render.ANSWERS_FILE, None)
    assert sorted(set(reference_tree) - set(got)) == [], "files missing from the render"
    assert sorted(set(got) - set(reference_tree)) == [], "files the reference does not have"
    differing = sorted(rel for rel in reference_tree if got[rel] != reference_tree[rel])
    assert differing == [], "files that do not come back byte for byte"


@pytest.mark.parametrize("tool", ["copier", "cookiecutter"])
def test_executable_bits_survive(tool: str, rendered: dict[str, Path], reference_tree: dict[str, bytes]) -> None:
    want = {rel for rel in reference_tree if (REFERENCE / rel).is_file() and (REFERENCE / rel).stat().st_mode & 0o100}
    assert executable_files(rendered[tool]) == want


@pytest.mark.parametrize("tool", ["copier", "cookiecutter"])
def test_payload_braces_come_out_byte_identical(
    tool: str, rendered: dict[str, Path], reference_tree: dict[str, bytes], solutions_build: build.BuildResult
) -> None:
    with_braces = {rel for rel, data in reference_tree.items() if any(o in data for o in (b"{{", b"{%", b"{#"))}
    assert len(with_braces) >= 3, "the reference should hold workflows, Helm and Prometheus files with braces"
    escaped = {rel for rel in with_braces if f"{build.copier_config.PAYLOAD_DIR}/{rel}.jinja" in solutions_build.files}
    assert escaped, "no file holds both payload braces and a variable: the escaping is untested"
    got = tree(rendered[tool])
    assert sorted(rel for rel in with_braces if got.get(rel) != reference_tree[rel]) == []
