"""Local values and string functions evaluated, so policies judge what Terraform would build.

conftest evaluates each ``.tf`` file on its own, as written: ``name = local.bucket_name`` reaches a
policy as ``"${local.bucket_name}"``, and the name's shape (``mfgcp-...`` or a prefix variable)
is in another block, often another file. Terraform reads every ``.tf`` file of a folder as one
module, so a ``locals`` value is visible in each of them. The instructor's policies get each file
with the references to its module's locals replaced by their values, repeatedly (locals may use
other locals), as far as the values are known here; variables stay references, because their
values come from the caller or the ``.tfvars`` of an environment. ``format()`` and ``join()`` over
string literals and references become the template they build, so a name written
``format("%s-%s", var.name_prefix, var.purpose)`` is judged like ``"${var.name_prefix}-${var.purpose}"``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

LOCAL_REFERENCE = re.compile(r"\$\{local\.([A-Za-z_][A-Za-z0-9_-]*)\}")
MAX_ROUNDS = 8  # deeper chains of locals than this are left as references (and cycles end)
STRING_CALL = re.compile(r"^\$\{\s*(format|join)\((.*)\)\s*\}$", re.S)
REFERENCE = re.compile(r"^(?:var|local|each|module|data)\.[A-Za-z0-9_.\[\]\"-]+$")
QUOTED = re.compile(r'^"((?:[^"\\$]|\\.)*)"$')


def module_locals(documents: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every folder's local values: {folder: {name: value}} from all ``locals`` blocks of its .tf files."""
    found: dict[str, dict[str, Any]] = {}
    for path, data in documents.items():
        if not path.endswith(".tf") or not isinstance(data, dict):
            continue
        blocks = data.get("locals")
        for block in blocks if isinstance(blocks, list) else []:
            if isinstance(block, dict):
                found.setdefault(posixpath.dirname(path), {}).update(block)
    return found


def _arguments(text: str) -> list[str] | None:
    """Top-level comma-separated arguments of a call (None when brackets or quotes do not balance)."""
    parts, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if quote:
            quote = not (ch == '"' and text[i - 1] != "\\")
        elif ch == '"':
            quote = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return None if depth or quote else parts


def _as_template(argument: str) -> str | None:
    """A string literal's text, or ``${reference}`` for a plain reference; None for anything else."""
    literal = QUOTED.match(argument)
    if literal:
        return literal.group(1).replace('\\"', '"')
    return "${" + argument + "}" if REFERENCE.match(argument) else None


def string_call(value: str) -> str:
    """``format("%s-%s", var.a, var.b)`` or ``join("-", [var.a, var.b])`` written as the template it
    builds (``${var.a}-${var.b}``); any other expression is returned unchanged."""
    call = STRING_CALL.match(value)
    arguments = _arguments(call.group(2)) if call else None
    if not call or not arguments:
        return value
    if call.group(1) == "join" and len(arguments) == 2 and arguments[1].startswith("["):
        separator, items = _as_template(arguments[0]), _arguments(arguments[1].strip()[1:-1])
        parts = [_as_template(a) for a in items or []]
        if separator is None or not parts or any(p is None for p in parts):
            return value
        return separator.join(p for p in parts if p is not None)
    if call.group(1) == "format":
        pattern = _as_template(arguments[0])
        parts = [_as_template(a) for a in arguments[1:]]
        if pattern is None or pattern.startswith("${") or any(p is None for p in parts):
            return value
        pieces = re.split(r"(%%|%[sdv])", pattern)
        if sum(1 for piece in pieces if piece in ("%s", "%d", "%v")) != len(parts):
            return value
        filled = iter(parts)
        return "".join(
            "%" if piece == "%%" else str(next(filled)) if piece in ("%s", "%d", "%v") else piece for piece in pieces
        )
    return value


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with ``${local.x}`` replaced: a whole reference by the local's value (any type), an
    interpolation inside a longer string by the local's text when the value is a string."""
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, str) and STRING_CALL.match(value):
        value = string_call(value)
    if not isinstance(value, str) or "${local." not in value:
        return value
    whole = LOCAL_REFERENCE.fullmatch(value)
    if whole and whole.group(1) in values:
        return values[whole.group(1)]

    def text_of(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return found if isinstance(found, str) else match.group(0)

    return LOCAL_REFERENCE.sub(text_of, value)


def resolve_locals(documents: dict[str, Any]) -> dict[str, Any]:
    """Each document (conftest's HCL shape, by path) with its module's locals substituted."""
    by_folder = module_locals(documents)
    resolved_locals: dict[str, dict[str, Any]] = {}
    for folder, values in by_folder.items():
        current = values
        for _ in range(MAX_ROUNDS):
            following = {name: substitute(value, current) for name, value in current.items()}
            if following == current:
                break
            current = following
        resolved_locals[folder] = current
    result = {}
    for path, data in documents.items():
        values = resolved_locals.get(posixpath.dirname(path), {})
        result[path] = substitute(data, values) if path.endswith(".tf") else data
    return result
