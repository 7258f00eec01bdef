"""Instructor commands act on the kit checkout around the current folder, and say which."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.cli import main
from graders.instructor import layout

from .conftest import KIT, MakeKit

KIT_PYPROJECT = '[project]\nname = "capstone-kit"\nversion = "0.1.0"\n'


@pytest.fixture
def small_kit(make_kit: MakeKit) -> Path:
    kit = make_kit({"a.md": "RVB01\n"})
    (kit / "pyproject.toml").write_text(KIT_PYPROJECT, encoding="utf-8")
    return kit


def test_find_kit_walks_up_to_the_checkout(small_kit: Path, tmp_path: Path) -> None:
    assert layout.find_kit(small_kit / "reference_solution") == small_kit.resolve()
    assert layout.find_kit(KIT / "graders" / "instructor") == KIT
    assert layout.find_kit(tmp_path / "elsewhere") is None
    (small_kit / "pyproject.toml").write_text('[project]\nname = "some-other-project"\n', encoding="utf-8")
    assert not layout.is_kit(small_kit)  # the same folders under another project's name


def test_build_acts_on_the_checkout_of_the_current_folder(
    small_kit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(small_kit / "reference_solution")
    assert main(["build"]) == 0
    err = capsys.readouterr().err
    assert f"capstone: kit checkout {small_kit.resolve()} (contains the current folder)" in err.splitlines()
    assert (small_kit / "template" / "cookiecutter.json").is_file()  # this kit's template, not the installed one's
    assert main(["build", "--check"]) == 0
    assert f"capstone: kit checkout {small_kit.resolve()} (contains the current folder)" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["verify", "--no-mutants", "--lab", "lab01"], ["new", "{tmp}/student"]])
def test_verify_and_new_say_which_checkout_they_use(
    command: list[str],
    small_kit: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["build", "--kit", str(small_kit)]) == 0
    monkeypatch.chdir(small_kit / "labs")
    capsys.readouterr()
    main([part.format(tmp=tmp_path) for part in command])
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"capstone: kit checkout {small_kit.resolve()} (contains the current folder)"
    if command[0] == "new":
        assert (tmp_path / "student" / "a.md").read_text(encoding="utf-8") == "RVB01\n"  # the small kit's file


def test_outside_a_checkout_the_installed_one_is_used_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_kit: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(layout, "KIT_ROOT", small_kit)
    assert main(["build", "--check"]) == 1  # never built: stale
    assert capsys.readouterr().err.splitlines()[0] == (
        f"capstone: kit checkout {small_kit} (capstone is installed from it; the current folder is in no kit checkout)"
    )


def test_no_checkout_anywhere_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(layout, "KIT_ROOT", tmp_path / "site-packages")
    assert main(["build", "--check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "capstone: error: the current folder is in no kit checkout, and capstone is not installed from one: run "
        "this command inside a checkout of the capstone kit (a folder with pyproject.toml naming capstone-kit, "
        "reference_solution/ and labs/)"
    ]
