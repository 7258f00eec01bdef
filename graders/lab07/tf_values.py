"""The value a Terraform expression takes in one environment, as far as the configuration tells.

hcl2json writes every expression as ``${<source>}``; the checks that judge what a bucket does in
production (``force_destroy``) need the value, not the text. This evaluates the small language such
settings are written in (literals, ``var.x``, ``!``, ``==``/``!=``, ``&&``/``||``, parentheses, a
conditional) with the variables of a ``.tfvars`` file and the variables' defaults. Anything else
is unknown (``None``): a check never fails on a value it could not work out.
"""

from __future__ import annotations

import re
from typing import Any

UNKNOWN = None
_TOKEN = re.compile(r'\s*(==|!=|&&|\|\||[!()?:]|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.\-]*|-?[0-9]+(?:\.[0-9]+)?)')


def expression_text(value: Any) -> str | None:
    """The source of a value that is one expression (``"${!var.x}"`` -> ``!var.x``), else None."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}") and value.count("${") == 1:
        return value[2:-1].strip()
    return None


def _tokens(text: str) -> list[str] | None:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            return None if text[position:].strip() else tokens
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens; each method returns a value or UNKNOWN."""

    def __init__(self, tokens: list[str], variables: dict[str, Any]) -> None:
        self.tokens = tokens
        self.index = 0
        self.variables = variables
        self.failed = False

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.index += 1
        return token

    def conditional(self) -> Any:
        condition = self.disjunction()
        if self.peek() != "?":
            return condition
        self.take()
        when_true = self.conditional()
        if self.take() != ":":
            self.failed = True
            return UNKNOWN
        when_false = self.conditional()
        if isinstance(condition, bool):
            return when_true if condition else when_false
        return when_true if when_true == when_false and when_true is not UNKNOWN else UNKNOWN

    def disjunction(self) -> Any:
        left = self.conjunction()
        while self.peek() == "||":
            self.take()
            right = self.conjunction()
            left = True if True in (left, right) else (False if left is False and right is False else UNKNOWN)
        return left

    def conjunction(self) -> Any:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left = False if False in (left, right) else (True if left is True and right is True else UNKNOWN)
        return left

    def comparison(self) -> Any:
        left = self.unary()
        while self.peek() in ("==", "!="):
            operator = self.take()
            right = self.unary()
            if left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                left = (left == right) if operator == "==" else (left != right)
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = self.unary()
            return (not value) if isinstance(value, bool) else UNKNOWN
        return self.atom()

    def atom(self) -> Any:
        token = self.take()
        if token is None:
            self.failed = True
            return UNKNOWN
        if token == "(":
            value = self.conditional()
            if self.take() != ")":
                self.failed = True
            return value
        if token in ("true", "false"):
            return token == "true"
        if token.startswith('"'):
            return token[1:-1]
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", token):
            return float(token)
        if token.startswith("var.") and token.count(".") == 1:
            return self.variables.get(token[4:], UNKNOWN)
        return UNKNOWN


def evaluate(value: Any, variables: dict[str, Any]) -> Any:
    """``value`` as Terraform would compute it with ``variables`` (name -> value), or UNKNOWN."""
    if isinstance(value, bool) or value is None:
        return value
    text = expression_text(value)
    if text is None:
        return value if not (isinstance(value, str) and "${" in value) else UNKNOWN
    tokens = _tokens(text)
    if not tokens:
        return UNKNOWN
    parser = _Parser(tokens, variables)
    result = parser.conditional()
    if parser.failed or parser.index != len(tokens):
        return UNKNOWN
    return result


def variable_defaults(blocks: Any) -> dict[str, Any]:
    """``variable "x" { default = ... }`` blocks -> {name: default} (literal defaults only)."""
    defaults: dict[str, Any] = {}
    for block in blocks:
        if "default" in block.body and expression_text(block.body["default"]) is None:
            defaults[block.name] = block.body["default"]
    return defaults
