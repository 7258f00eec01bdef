"""Unit tests of lab07's evaluation of locals and string functions (graders/lab07/resolve.py)."""

from __future__ import annotations

from typing import Any

import pytest

from graders.lab07.hcl import parse
from graders.lab07.resolve import resolve_locals, string_call


def _documents(**files: str) -> dict[str, Any]:
    return {path.replace("__", "/") + ".tf": parse(text, path).data for path, text in files.items()}


def test_a_local_defined_in_another_file_of_the_module_is_substituted() -> None:
    docs = _documents(
        m__locals='locals {\n  bucket = "${var.name_prefix}-${var.purpose}"\n}\n',
        m__main='resource "google_storage_bucket" "this" {\n  name = local.bucket\n}\n',
    )
    resolved = resolve_locals(docs)
    assert resolved["m/main.tf"]["resource"]["google_storage_bucket"]["this"][0]["name"] == (
        "${var.name_prefix}-${var.purpose}"
    )


def test_chained_locals_and_templates_resolve_and_other_modules_are_untouched() -> None:
    docs = _documents(
        root__main='locals {\n  prefix = "mfgcp-${var.environment}"\n  name = "${local.prefix}-events"\n}\n'
        'resource "google_pubsub_topic" "t" {\n  name = "${local.name}-v2"\n}\n',
        other__main='resource "google_pubsub_topic" "t" {\n  name = local.name\n}\n',
    )
    resolved = resolve_locals(docs)
    assert resolved["root/main.tf"]["resource"]["google_pubsub_topic"]["t"][0]["name"] == (
        "mfgcp-${var.environment}-events-v2"
    )
    assert resolved["other/main.tf"]["resource"]["google_pubsub_topic"]["t"][0]["name"] == "${local.name}"


def test_a_cycle_of_locals_ends() -> None:
    docs = _documents(m__main='locals {\n  a = "${local.b}-x"\n  b = "${local.a}-y"\n}\n')
    assert "locals" in resolve_locals(docs)["m/main.tf"]


def test_a_whole_reference_keeps_the_locals_type() -> None:
    docs = _documents(m__main='locals {\n  labels = { plant = "rvb01" }\n}\nmodule "x" {\n  labels = local.labels\n}\n')
    assert resolve_locals(docs)["m/main.tf"]["module"]["x"][0]["labels"] == {"plant": "rvb01"}


@pytest.mark.parametrize(
    ("expression", "built"),
    [
        ('${format("%s-%s", var.name_prefix, var.purpose)}', "${var.name_prefix}-${var.purpose}"),
        ('${format("mfgcp-%s-%%d", var.environment)}', "mfgcp-${var.environment}-%d"),
        ('${join("-", [var.name_prefix, "documents"])}', "${var.name_prefix}-documents"),
        ('${format("%s-%s", var.name_prefix, lower(var.purpose))}', None),
        ('${format("%s", var.a, var.b)}', None),
        ("${upper(var.name)}", None),
    ],
)
def test_format_and_join_become_the_template_they_build(expression: str, built: str | None) -> None:
    assert string_call(expression) == (built if built is not None else expression)
