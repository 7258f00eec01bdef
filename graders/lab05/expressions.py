"""Evaluating a GitHub Actions ``if:`` expression for a given event, to tell when a job would run.

No maintained Python library evaluates Actions expressions, and the grader only needs to know
whether a deploy job runs for a handful of events (a push to main, a push to a feature branch, a pull
request, a manual dispatch). This is a small evaluator of the documented grammar: literals, context
paths, ``!``, comparisons (strings compare case-insensitively), ``&&``/``||`` (which return an
operand, as in Actions), parentheses, and the functions ``startsWith``, ``endsWith``, ``contains``,
``format``, ``fromJSON``/``toJSON`` and the status functions. A context the scenario does not define
evaluates to :data:`UNKNOWN`, which propagates, so the caller can say "cannot tell" instead of guessing.

Reference: https://docs.github.com/actions/reference/workflows-and-actions/expressions
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


class _Unknown:
    """A value the scenario cannot supply (``needs.x.outputs.y``, ``vars.Z``)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class ExpressionError(ValueError):
    """The expression does not parse; the message quotes it."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
# Status functions: the grader asks "would this job run if everything before it succeeded?"
_STATUS = {"success": True, "always": True, "failure": False, "cancelled": False}


def strip_wrapper(text: str) -> str:
    """``${{ expr }}`` -> ``expr`` (an ``if:`` may be written with or without the wrapper)."""
    stripped = text.strip()
    if stripped.startswith("${{") and stripped.endswith("}}"):
        return stripped[3:-2].strip()
    return stripped


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read {text!r} at position {pos}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def truthy(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str):
        return value != ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return value is not None


def _coerce_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) or not isinstance(left, (str, int, float, bool, type(None))):
        return left == right
    return _coerce_number(left) == _coerce_number(right)


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.context = context

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_expr()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return value

    def or_expr(self) -> Any:
        left = self.and_expr()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_expr()
            t = truthy(left)
            if t is True:
                continue
            left = right if t is False else (UNKNOWN if truthy(right) is not True else right)
        return left

    def and_expr(self) -> Any:
        left = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            t = truthy(left)
            if t is False:
                continue
            left = right if t is True else (UNKNOWN if truthy(right) is not False else right)
        return left

    def comparison(self) -> Any:
        left = self.unary()
        token = self.peek()
        while token is not None and token[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                left = _equal(left, right)
            elif op == "!=":
                eq = _equal(left, right)
                left = UNKNOWN if eq is UNKNOWN else not eq
            elif left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                a, b = _coerce_number(left), _coerce_number(right)
                left = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
            token = self.peek()
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            value = truthy(self.unary())
            return UNKNOWN if value is UNKNOWN else not value
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            return float(int(value, 16)) if value.lower().startswith(("0x", "-0x")) else float(value)
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "op" and value == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {self.text!r}")
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if self.peek() == ("op", "("):
            return self.call(value)
        return self.path(value)

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        if self.peek() != ("op", ")"):
            args.append(self.or_expr())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.or_expr())
        self.take(")")
        lowered = name.lower()
        if lowered in _STATUS:
            return _STATUS[lowered]
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        if lowered in ("startswith", "endswith") and len(args) == 2:
            a, b = (str(x if x is not None else "").casefold() for x in args)
            return a.startswith(b) if lowered == "startswith" else a.endswith(b)
        if lowered == "contains" and len(args) == 2:
            haystack, needle = args
            if isinstance(haystack, list):
                return any(_equal(item, needle) is True for item in haystack)
            return str(needle if needle is not None else "").casefold() in str(haystack or "").casefold()
        if lowered == "format" and args:
            template, *rest = args
            return re.sub(r"\{(\d+)\}", lambda m: str(rest[int(m.group(1))]), str(template))
        if lowered == "fromjson" and len(args) == 1:
            try:
                return json.loads(str(args[0]))
            except json.JSONDecodeError:
                return UNKNOWN
        if lowered == "tojson" and len(args) == 1:
            return json.dumps(args[0])
        return UNKNOWN

    def path(self, first: str) -> Any:
        value: Any = self.context.get(first, UNKNOWN)
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.or_expr()
                self.take("]")
            if isinstance(value, Mapping):
                value = value.get(key, UNKNOWN) if key in value else _lookup(value, key)
            elif value is not UNKNOWN:
                value = None
        return value


def _lookup(mapping: Mapping[str, Any], key: Any) -> Any:
    """Context keys are case-insensitive; a missing key of a known object is ``null``, of a partial one unknown."""
    if isinstance(key, str):
        for k, v in mapping.items():
            if isinstance(k, str) and k.casefold() == key.casefold():
                return v
    return mapping.get("*", UNKNOWN) if "*" in mapping else None


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of ``expression`` (with or without ``${{ }}``) under ``context``; UNKNOWN where it cannot tell."""
    return _Parser(strip_wrapper(expression), context).parse()


def condition_holds(expression: Any, context: Mapping[str, Any]) -> Any:
    """Whether a job or step ``if:`` lets it run: True, False or UNKNOWN. No ``if:`` means ``success()``."""
    if expression is None:
        return True
    if isinstance(expression, bool):
        return expression
    return truthy(evaluate(str(expression), context))
