"""Validating Compose files against the Compose Specification's JSON schema.

The schema is the one check-jsonschema ships as ``vendor.compose-spec`` (the same file its
``--builtin-schema vendor.compose-spec`` option uses), validated in this process with jsonschema so
that several files cost milliseconds rather than one CLI start each.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from graders.lab03.compose_yaml import untagged

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"
MAX_ERRORS = 5


class SchemaUnavailable(RuntimeError):
    """check-jsonschema (and with it the vendored Compose schema) is not installed."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    try:
        text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise SchemaUnavailable(
            "the Compose Specification schema from check-jsonschema is not installed (pip install check-jsonschema)"
        ) from exc
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _best(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The most specific sub-error of a oneOf/anyOf failure (what a person would fix)."""
    return jsonschema.exceptions.best_match([error]) or error


def _cascaded(error: jsonschema.ValidationError, others: list[jsonschema.ValidationError]) -> bool:
    """An "unevaluated properties" error that only repeats keys which have errors of their own."""
    if error.validator != "unevaluatedProperties":
        return False
    keys = set(re.findall(r"'([^']+)'", error.message.split("(", 1)[-1]))
    path = list(error.absolute_path)
    failing = {
        e.absolute_path[len(path)]
        for e in others
        if e is not error and len(e.absolute_path) > len(path) and list(e.absolute_path)[: len(path)] == path
    }
    return bool(keys) and keys <= {str(k) for k in failing}


def validate(document: Any) -> list[tuple[list[str | int], str]]:
    """Schema problems of one Compose document as ``(key path, message)``, at most a few."""
    errors = sorted(_validator().iter_errors(untagged(document)), key=lambda e: list(map(str, e.absolute_path)))
    errors = [e for e in errors if not _cascaded(e, errors)]
    problems = []
    for error in errors[:MAX_ERRORS]:
        best = _best(error)
        message = best.message if len(best.message) < 300 else best.message[:300] + "..."
        problems.append((list(best.absolute_path), f"{_where(best)}: {message}"))
    return problems
