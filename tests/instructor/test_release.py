"""The graders' pin: read from the kit checkout's pyproject.toml; a tagged release must agree with it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from graders.cli import main
from graders.instructor import build, classroom, copier_config, release

from .conftest import KIT, MakeKit

URL = "https://github.com/example-course/capstone-kit"


def pyproject(version: str, url: str | None) -> str:
    urls = f'\n[project.urls]\nRepository = "{url}"\n' if url else ""
    return f'[project]\nname = "capstone-kit"\nversion = "{version}"\n{urls}'


def git(root: Path, *args: str) -> None:
    identity = ("-c", "user.name=Course Team", "-c", "user.email=course@example.com", "-c", "commit.gpgsign=false")
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True, text=True)


def tagged_kit(make_kit: MakeKit, version: str, url: str | None, tag: str | None) -> Path:
    kit = make_kit({"README.md": "plant RVB01\n"})
    (kit / "pyproject.toml").write_text(pyproject(version, url), encoding="utf-8")
    git(kit, "init", "-q", "-b", "main")
    git(kit, "add", "--all")
    git(kit, "commit", "-q", "-m", "course")
    if tag:
        git(kit, "tag", tag)
    return kit


def test_version_and_url_come_from_the_checkouts_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject("1.4.0", URL + ".git"), encoding="utf-8")
    found = release.read_release(tmp_path)
    assert (found.version, found.repository, found.tag) == ("1.4.0", URL, "v1.4.0")
    assert found.requirement == f"capstone-kit @ git+{URL}@v1.4.0"
    (tmp_path / "pyproject.toml").write_text(pyproject("1.4.0", None), encoding="utf-8")
    assert release.read_release(tmp_path).placeholder


def test_the_reference_pins_what_the_kits_pyproject_says() -> None:
    pinned = (KIT / "reference_solution" / classroom.REQUIREMENTS_PATH).read_text(encoding="utf-8")
    assert pinned.splitlines()[-1] == release.read_release(KIT).requirement


@pytest.mark.parametrize(
    ("version", "url", "tag", "expected"),
    [
        ("1.1.0", URL, "v1.2.0", 'version = "1.1.0" but HEAD is tagged v1.2.0'),
        ("1.2.0", None, "v1.2.0", "[project.urls] Repository is not set"),
        ("1.2.0", release.PLACEHOLDER_REPOSITORY, "v1.2.0", "[project.urls] Repository is not set"),
        ("1.2.0", "git@github.com:example-course/capstone-kit", "v1.2.0", "is not a URL that pip can install"),
    ],
)
def test_a_release_that_students_could_not_install_is_refused(
    make_kit: MakeKit, capsys: pytest.CaptureFixture[str], version: str, url: str | None, tag: str, expected: str
) -> None:
    kit = tagged_kit(make_kit, version, url, tag)
    with pytest.raises(build.BuildError, match=r"pyproject\.toml: .*" + re.escape(expected)):
        build.build(kit)
    assert main(["build", "--kit", str(kit)]) != 0
    err = capsys.readouterr().err
    assert expected in err and "pyproject.toml" in err


def test_a_consistent_release_builds_and_pins_its_own_tag_and_url(make_kit: MakeKit) -> None:
    kit = tagged_kit(make_kit, "1.2.0", URL, "v1.2.0")
    assert release.release_problems(kit) == ([], [])
    result = build.build(kit)
    assert result.warnings == []
    pin = result.generated_reference[classroom.REQUIREMENTS_PATH]
    assert pin.splitlines()[-1] == f"capstone-kit @ git+{URL}@v1.2.0"
    payload = result.files[f"{copier_config.PAYLOAD_DIR}/{classroom.REQUIREMENTS_PATH}"].content.decode()
    assert payload == pin
    assert "v1.2.0" in result.generated_reference[classroom.WORKFLOW_PATH]
    assert release.read_release().repository != URL  # outside the build, the installed checkout again


def test_an_untagged_checkout_builds_with_one_warning_for_the_placeholder(
    make_kit: MakeKit, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = tagged_kit(make_kit, "1.3.0", None, tag=None)
    result = build.build(kit)
    assert len(result.warnings) == 1 and "placeholder" in result.warnings[0]
    assert main(["build", "--kit", str(kit)]) == 0
    assert capsys.readouterr().err.count("placeholder") == 1
    git(kit, "tag", "v0.9.0-old")  # a tag on another commit would not count; on HEAD it does
    problems, _ = release.release_problems(kit)
    assert problems and 'version = "1.3.0" but HEAD is tagged v0.9.0-old' in problems[0]
