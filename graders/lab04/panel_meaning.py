"""Does a dashboard panel compute what its title says? Read from the query's PromQL tree.

Two titles make a checkable promise. "p95" (or "p10 / p50") promises ``histogram_quantile`` at that
quantile over ``rate()`` (or ``irate``/``increase``) of a ``_bucket`` series, aggregated with ``le``
kept: raw cumulative buckets give the service's whole-life distribution, and an aggregation that drops
``le`` leaves the function nothing to read. "Error" or "5xx" promises a share of server errors: every
status matcher on the request counter selects 5xx codes and no 4xx or 2xx code. Recording rules are
expanded before judging, so a panel on ``copilot:http_errors:ratio_rate5m`` is judged by that rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import promql_parser

from graders.lab04.promql import PromQLError, op_symbol, substitute_grafana_variables

QUANTILE_TITLE = re.compile(r"\bp(\d{1,2}(?:\.\d+)?)\b", re.IGNORECASE)
ERROR_TITLE = re.compile(r"\b(errors?|5xx|failures?|failed)\b", re.IGNORECASE)
RATE_FUNCTIONS = ("rate", "irate", "increase")
REQUESTS_SUFFIX = "http_requests_total"
SERVER_ERRORS = ("500", "502", "503", "504")
NOT_SERVER_ERRORS = ("200", "201", "204", "400", "401", "403", "404", "422", "429")
MAX_RECORD_DEPTH = 5


def _parse(expr: str) -> object:
    try:
        return promql_parser.parse(substitute_grafana_variables(expr))
    except ValueError as exc:
        raise PromQLError(str(exc)) from None


def _walk(node: object, visit: Callable[[object], None]) -> None:
    def inner(n: object) -> bool:
        visit(n)
        return True

    promql_parser.walk(node, inner)  # type: ignore[arg-type]


def _expanded(expr: str, records: dict[str, str], depth: int = 0) -> list[str]:
    """``expr`` and the expressions of the recording rules it reads, recursively."""
    found = [expr]
    if depth >= MAX_RECORD_DEPTH:
        return found
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name in records:
            names.add(node.name)

    _walk(_parse(expr), visit)
    for name in sorted(names):
        found += _expanded(records[name], records, depth + 1)
    return found


def _matches(matcher: promql_parser.Matcher, value: str) -> bool:
    """Prometheus' label matching (regexes are anchored at both ends)."""
    op = op_symbol(matcher.op)
    try:
        hit = re.fullmatch(matcher.value, value) is not None if op in ("=~", "!~") else matcher.value == value
    except re.error:
        return False
    return hit if op in ("=", "=~") else not hit


def _reads_rate_of_buckets(node: object) -> bool:
    found = False

    def visit(n: object) -> None:
        nonlocal found
        if (
            isinstance(n, promql_parser.Call)
            and n.func.name in RATE_FUNCTIONS
            and n.args
            and isinstance(n.args[0], promql_parser.MatrixSelector)
            and str(n.args[0].vector_selector.name or "").endswith("_bucket")
        ):
            found = True

    _walk(node, visit)
    return found


def _drops_le(node: object) -> bool:
    """Whether an aggregation inside ``node`` removes the ``le`` label."""
    dropped = False

    def visit(n: object) -> None:
        nonlocal dropped
        if isinstance(n, promql_parser.AggregateExpr) and str(n.op).lower() not in ("topk", "bottomk"):
            labels = list(n.modifier.labels) if n.modifier else []
            by = n.modifier is not None and str(n.modifier.type).endswith("By")
            if (by and "le" not in labels) or (n.modifier is None) or (not by and "le" in labels):
                dropped = True

    _walk(node, visit)
    return dropped


def quantile_problems(title: str, expr: str) -> list[str]:
    """What keeps the panel's histogram_quantile calls from being the percentiles its title names."""
    promised = {float(m) / 100 for m in QUANTILE_TITLE.findall(title)}
    problems: list[str] = []

    def visit(node: object) -> None:
        if not (isinstance(node, promql_parser.Call) and node.func.name == "histogram_quantile"):
            return
        phi, inner = node.args[0], node.args[1]
        if isinstance(phi, promql_parser.NumberLiteral) and promised and round(phi.val, 6) not in promised:
            named = ", ".join(f"p{p * 100:g}" for p in sorted(promised))
            problems.append(f"computes the {phi.val:g} quantile, but its title promises {named}")
        if not _reads_rate_of_buckets(inner):
            problems.append(
                "takes histogram_quantile over raw _bucket counters (the service's whole history); "
                "wrap the buckets in rate(...[$__rate_interval])"
            )
        if _drops_le(inner):
            problems.append("aggregates the buckets without keeping le (`sum by (le, ...)`), so no quantile exists")

    _walk(_parse(expr), visit)
    return problems


def error_problems(expr: str, records: dict[str, str]) -> list[str]:
    """What keeps an error panel's query from counting server errors (5xx) only."""
    problems: list[str] = []
    for text in _expanded(expr, records):

        def visit(node: object) -> None:
            if not isinstance(node, promql_parser.VectorSelector) or not str(node.name or "").endswith(REQUESTS_SUFFIX):
                return
            for matcher in node.matchers.matchers:
                if matcher.name != "status":
                    continue
                selected = [code for code in (*SERVER_ERRORS, *NOT_SERVER_ERRORS) if _matches(matcher, code)]
                wrong = [code for code in selected if code in NOT_SERVER_ERRORS]
                if any(code in SERVER_ERRORS for code in selected) and wrong:
                    problems.append(
                        f"its status matcher {matcher} also counts {', '.join(wrong)}: an error ratio counts "
                        'server errors only (status=~"5..")'
                    )

        _walk(_parse(text), visit)
    return problems
