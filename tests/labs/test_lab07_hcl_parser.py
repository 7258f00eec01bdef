"""The lab07 grader parses Terraform with the private lark grammar of checkov's ``bc-python-hcl2``.

``graders.lab07.hcl`` needs the parse tree (the package's dict output loses the difference between
a block and an object attribute), which only ``hcl2.parser.Hcl2.lark_parser`` exposes. That is not
a public API: a release of ``bc-python-hcl2``, or ``python-hcl2`` installed over it (same ``hcl2``
import name), can move it. These tests fail with the fix instead of a score that silently changes.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from graders.lab07 import hcl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
DISTRIBUTION = "bc-python-hcl2"


def _declared() -> Requirement:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    for line in data["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name == DISTRIBUTION:
            return requirement
    pytest.fail(f"pyproject.toml does not declare {DISTRIBUTION}: graders/lab07/hcl.py imports it")


def test_declared_pin_matches_the_installed_version_and_checkovs_pin() -> None:
    requirement = _declared()
    installed = metadata.version(DISTRIBUTION)
    assert requirement.specifier and installed in requirement.specifier, (
        f"pyproject.toml declares `{requirement}` but {DISTRIBUTION} {installed} is installed: "
        "pin the version graders/lab07/hcl.py was tested with"
    )
    checkov_pins = [Requirement(r) for r in metadata.requires("checkov") or [] if Requirement(r).name == DISTRIBUTION]
    for pin in checkov_pins:
        assert installed in pin.specifier, f"checkov requires `{pin}`, the kit pins `{requirement}`: align them"


def test_hcl2_import_name_belongs_to_checkovs_fork() -> None:
    owners = metadata.packages_distributions().get("hcl2", [])
    assert owners == [DISTRIBUTION], (
        f"the `hcl2` module is provided by {owners or 'nothing'}, not only by {DISTRIBUTION}: "
        f"`pip uninstall python-hcl2 && pip install --force-reinstall {_declared()}`"
    )


def test_private_lark_grammar_is_where_the_grader_reads_it() -> None:
    try:
        from hcl2.parser import Hcl2
    except ImportError as exc:
        pytest.fail(
            f"hcl2.parser.Hcl2 moved in {DISTRIBUTION} {metadata.version(DISTRIBUTION)} ({exc}): "
            "update graders/lab07/hcl.py:_lark_parser or restore the pinned version"
        )
    from lark import Lark

    parser = getattr(Hcl2, "lark_parser", None)
    assert isinstance(parser, Lark), (
        f"hcl2.parser.Hcl2.lark_parser is {type(parser).__name__}, not a lark parser, in {DISTRIBUTION} "
        f"{metadata.version(DISTRIBUTION)}: update graders/lab07/hcl.py:_lark_parser or restore the pin"
    )


def test_parse_tree_keeps_blocks_apart_from_object_attributes() -> None:
    """The one reason for the private grammar: ``labels {}`` is a block, ``labels = {}`` an attribute."""
    document = hcl.parse('resource "a" "b" {\n  lifecycle {}\n  labels = { team = "x" }\n}\n', "main.tf")
    body = document.data["resource"]["a"]["b"][0]
    assert body["lifecycle"] == [{}], "a nested block must become a list of bodies (hcl2json's shape)"
    assert body["labels"] == {"team": "x"}, "an object attribute must stay an object"
    assert document.line("resource", "a", "b") == 1
