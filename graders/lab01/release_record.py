"""Release records against the lab's JSON Schema (the grader's own copy, so a loosened schema in the
submission changes nothing) and against the facts they cite."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schemas") / "release-record.schema.json"


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_problems(record: Any, limit: int = 4) -> list[str]:
    """Schema violations as ``field: message`` lines (empty when the record is valid)."""
    errors = sorted(_validator().iter_errors(record), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for error in errors[:limit]:
        where = ".".join(str(p) for p in error.absolute_path) or "(the record)"
        out.append(f"{where}: {error.message[:200]}")
    return out


def get(record: Any, dotted: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"``; None when any part is missing."""
    node = record
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def pinning_problem(record: Any) -> str | None:
    """Why ``model.uri`` does not pin the released version by number, or None when it does.

    An alias (``models:/name@champion``) or the ``latest`` shorthand moves on at the next promotion, so
    the record would name a different model the day after; ``models:/<name>/<version>`` never does.
    """
    name, version, uri = get(record, "model.name"), get(record, "model.version"), get(record, "model.uri")
    if not isinstance(uri, str):
        return None  # the schema check reports a missing URI
    from urllib.parse import unquote

    expected = f"models:/{name}/{version}"
    if unquote(uri.strip()).rstrip("/") == expected:
        return None
    return (
        f"model.uri is {uri!r}: pin the released version by number ({expected!r}); an alias or 'latest' "
        "moves on at the next promotion, so the record would no longer say which model was released"
    )
