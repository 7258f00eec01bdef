"""Reading Compose files the way Docker Compose does: its YAML tags, duplicate keys and interpolation.

Compose files use two custom tags in override files (``!reset`` and ``!override``, see the Compose
Specification's "Merge and override") and ``${VAR}`` interpolation. A plain YAML loader rejects the
tags and silently keeps the last of two duplicate keys, which Compose refuses; both would hide a
student's mistake, so this module reads the file through the grader's safe YAML composer (alias
bombs refused) and then constructs it with a loader that knows the tags and rejects duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from graders.sdk import safe_yaml
from graders.sdk.submission import Submission, SubmissionFileError

RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"


@dataclass(frozen=True)
class Tagged:
    """A value carrying Compose's ``!reset`` or ``!override`` tag."""

    tag: str
    value: Any


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class ComposeLoader(safe_yaml.SafeLoader):
    """Safe loader plus the Compose tags; duplicate mapping keys are an error, as in Compose."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            if key_node.value in seen:
                raise _DuplicateKey(
                    problem=f"mapping key '{key_node.value}' is defined twice (first on line {seen[key_node.value]})",
                    problem_mark=key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _construct_tagged(loader: ComposeLoader, node: yaml.Node) -> Tagged:
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        text = loader.construct_scalar(node)  # type: ignore[arg-type]
        value = None if text in ("", "null", "~", "Null", "NULL") else text
    return Tagged(str(node.tag), value)


ComposeLoader.add_constructor(RESET_TAG, _construct_tagged)
ComposeLoader.add_constructor(OVERRIDE_TAG, _construct_tagged)


def parse(text: str, source: str) -> Any:
    """Parse one Compose file's text; raise SubmissionFileError naming ``source`` and the line."""
    try:
        return safe_yaml.load(text, source, loader=ComposeLoader)  # alias bombs refused before construction
    except safe_yaml.ERRORS as exc:
        fix = "fix the YAML (indentation, quotes, a missing ':' or a repeated key)"
        message, line = safe_yaml.explain(exc, source, what="a valid Compose file", fix=fix)
        raise SubmissionFileError(message, source, line) from None


def load(submission: Submission, rel: str) -> dict[str, Any]:
    """One Compose file of the submission as a mapping (an empty file is an empty mapping)."""
    data = parse(submission.read_text(rel), rel)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SubmissionFileError(
            f"{rel} must be a mapping with a top-level 'services:' key, not a {type(data).__name__}", rel
        )
    return data


def untagged(value: Any) -> Any:
    """The value with tags replaced by their plain values (for schema validation of one file)."""
    if isinstance(value, Tagged):
        return untagged(value.value)
    if isinstance(value, dict):
        return {k: untagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untagged(v) for v in value]
    return value


# -- interpolation -----------------------------------------------------------------------------------
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_INTERPOLATED_CHARS = 65_536


class InterpolationError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset, or malformed ``${...}`` syntax."""


@dataclass
class Interpolator:
    """Compose variable substitution: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+replacement}``, ``${VAR+replacement}`` and ``$$``.

    Unset variables without a default become empty strings, as in Compose, and are recorded in
    ``unset`` so feedback can name them.
    """

    environment: Mapping[str, str]
    unset: list[str] = field(default_factory=list)

    def substitute(self, text: str) -> str:
        if len(text) > MAX_INTERPOLATED_CHARS:
            raise InterpolationError(f"a value of {len(text):,} characters is too long to interpolate")
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char != "$":
                out.append(char)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing_brace(text, i + 2)
                out.append(self._braced(text[i + 2 : end]))
                i = end + 1
            else:
                match = _NAME.match(text, i + 1)
                if match:
                    out.append(self._lookup(match.group(0)))
                    i = match.end()
                else:
                    out.append("$")
                    i += 1
        return "".join(out)

    def _lookup(self, name: str) -> str:
        if name in self.environment:
            return self.environment[name]
        if name not in self.unset:
            self.unset.append(name)
        return ""

    def _braced(self, body: str) -> str:
        match = _NAME.match(body)
        if not match:
            raise InterpolationError(f"invalid interpolation format '${{{body}}}': expected a variable name")
        name, rest = match.group(0), body[match.end() :]
        value = self.environment.get(name)
        if rest == "":
            return self._lookup(name)
        for op in (":-", ":?", ":+", "-", "?", "+"):
            if rest.startswith(op):
                arg = rest[len(op) :]
                empty_counts = op.startswith(":")
                is_set = value is not None and (value != "" or not empty_counts)
                if op.endswith("-"):
                    return value if is_set and value is not None else self.substitute(arg)
                if op.endswith("?"):
                    if is_set and value is not None:
                        return value
                    message = self.substitute(arg) or "is required"
                    raise InterpolationError(f"required variable {name} is missing a value: {message}")
                return self.substitute(arg) if is_set else ""
        raise InterpolationError(f"invalid interpolation format '${{{body}}}'")

    def apply(self, value: Any) -> Any:
        """Substitute in every string value (keys are left alone, as in Compose)."""
        if isinstance(value, str):
            return self.substitute(value)
        if isinstance(value, Tagged):
            return Tagged(value.tag, self.apply(value.value))
        if isinstance(value, dict):
            return {k: self.apply(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        return value


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError(f"invalid interpolation format: '{text[start - 2 :]}' has no closing '}}'")


# -- .env files ----------------------------------------------------------------------------------------
def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines as Compose reads them (comments, ``export``, quotes; later keys win)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values
