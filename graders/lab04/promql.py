"""Metric names used by PromQL expressions (alert rules, Grafana panels), read with a real parser.

Parsing is done by ``promql-parser`` (the Rust PromQL parser of GreptimeDB, compiled for Python);
this module only prepares Grafana queries for it (dashboard variables such as ``$plant`` or
``$__rate_interval`` are not PromQL) and walks the syntax tree for vector selectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser

# Grafana's built-in interval variables stand for a duration; the *_s / *_ms ones for a number.
_NUMBER_VARIABLES = re.compile(r"^__(range|interval)_(s|ms)$")
_VARIABLE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([^\]]*)\]\]")
# Grafana-only query functions of the Prometheus datasource (variable queries), not PromQL.
_TEMPLATE_FUNCTIONS = re.compile(r"^\s*(label_values|query_result|label_names|metrics)\s*\((.*)\)\s*$", re.DOTALL)


class PromQLError(ValueError):
    """The expression is not valid PromQL; the message is the parser's."""


@dataclass(frozen=True)
class Selector:
    name: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)


def substitute_grafana_variables(expr: str) -> str:
    """Replace dashboard variables outside string literals by a value of the right kind.

    Inside quotes (``plant=~"$plant"``) a variable is just text and stays. Outside, a variable in a
    range (``[$__rate_interval]``) or after ``offset`` becomes ``5m``, anything else ``1``.
    """
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "\"'`":
            quote = ch
            out.append(ch)
            i += 1
            continue
        match = _VARIABLE.match(expr, i)
        if match and (ch == "$" or expr.startswith("[[", i)):
            name = (match.group(1) or match.group(2) or match.group(3) or "").split(":")[0]
            before = "".join(out).rstrip()
            if _NUMBER_VARIABLES.match(name):
                out.append("1")
            elif before.endswith(("[", ":")) or before.endswith("offset"):
                out.append("5m")
            else:
                out.append("1")
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _template_query(expr: str) -> str | None:
    """The PromQL inside a Grafana variable query (``label_values(metric, label)``), or None."""
    match = _TEMPLATE_FUNCTIONS.match(expr)
    if not match:
        return expr
    func, args = match.group(1), match.group(2).strip()
    if func in ("metrics",) or not args:
        return None
    if func == "label_values":
        depth = 0
        for k, ch in enumerate(args):  # the first argument ends at the first top-level comma
            depth += ch in "({["
            depth -= ch in ")}]"
            if ch == "," and depth == 0:
                return args[:k]
        return None  # label_values(label): no metric named
    return args


def selectors(expr: str, grafana: bool = False) -> list[Selector]:
    """Every vector selector of ``expr`` (names, and label matchers); raises PromQLError."""
    text = expr
    if grafana:
        inner = _template_query(expr)
        if inner is None:
            return []
        text = substitute_grafana_variables(inner)
    try:
        tree = promql_parser.parse(text)
    except ValueError as exc:
        raise PromQLError(str(exc)) from None
    found: list[Selector] = []

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = tuple((m.name, op_symbol(m.op), m.value) for m in node.matchers.matchers)
            name = node.name or next((v for label, op, v in matchers if label == "__name__" and op == "="), None)
            found.append(Selector(name, matchers))
        return True

    promql_parser.walk(tree, visit)
    return found


def op_symbol(op: object) -> str:
    return {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}.get(str(op).rsplit(".", 1)[-1], str(op))


def metric_names(expr: str, grafana: bool = False) -> set[str]:
    """Metric names ``expr`` reads (selectors by a regex on ``__name__`` are not resolvable: skipped)."""
    return {s.name for s in selectors(expr, grafana) if s.name}


def unfed_metrics(expr: str, records: dict[str, str], fed: set[str]) -> list[str]:
    """Metrics ``expr`` reads of which no series is in ``fed`` (a recording rule counts through its inputs).

    A promtool control case that feeds none of them is silent for lack of data, not because of its values.
    """
    try:
        read = metric_names(expr)
    except PromQLError:
        return []  # promtool's check reports the syntax error

    def missing(name: str, depth: int) -> list[str]:
        if name in fed:
            return []
        if name in records and depth < 5:
            try:
                inner = metric_names(records[name])
            except PromQLError:
                return []
            return [m for n in sorted(inner) for m in missing(n, depth + 1)]
        return [name]

    return sorted({m for name in read for m in missing(name, 0)})


def parse_duration(text: object) -> float | None:
    """Seconds of a Prometheus duration (``5m``, ``1h30m``); None when it is not one.

    A bare number is refused as Prometheus' rule loader refuses ``for: 5``; zero, which promql-parser
    refuses because a range cannot be empty, is a valid ``for: 0s``.
    """
    value = str(text).strip()
    if not value[-1:].isalpha():
        return None
    try:
        return float(promql_parser.parse_duration(value).total_seconds())
    except ValueError as err:
        return 0.0 if "greater than 0" in str(err) else None
