"""Which labels the result of a PromQL expression can carry, from its syntax tree (promql-parser).

An alert's annotations name labels of its result (``{{ $labels.plant }}``) and Alertmanager groups
and inhibits on them; ``sum(rate(...))`` without ``by (plant)`` drops the label, so the summary reads
"at plant " and every plant's incident becomes one. The rules are Prometheus' own: an aggregation
keeps its ``by`` labels (or drops its ``without`` ones), a one-to-one binary operation with
``on(...)`` keeps those labels, ``group_left(...)`` adds the named ones, functions keep their
argument's labels. ``None`` means "any label of the underlying series": only a label that the
result certainly lacks is ever reported.
"""

from __future__ import annotations

import re

import promql_parser as pp

Labels = frozenset[str] | None  # None: open (every label of the selected series)
Records = dict[str, str] | None  # recording rules: record name -> expression
# Functions whose result has no labels, and those that add or drop one.
_NO_LABELS = {"vector", "time", "scalar", "pi", "minute", "hour", "day_of_month", "day_of_week", "day_of_year",
              "days_in_month", "month", "year"}
_SET_OPS = {"and", "or", "unless"}
_TEMPLATE_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)")


def _union(a: Labels, b: Labels) -> Labels:
    return None if a is None or b is None else a | b


def _is_scalar(node: object) -> bool:
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return True
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr)):
        return _is_scalar(node.expr)
    if isinstance(node, pp.Call):
        return node.func.name in ("scalar", "time", "pi")
    if isinstance(node, pp.BinaryExpr):
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    return False


def _aggregate(node: pp.AggregateExpr, records: Records, depth: int) -> Labels:
    inner = labels_of(node.expr, records, depth)
    op = str(node.op).lower()
    if op in ("topk", "bottomk", "limitk", "limit_ratio"):
        return inner  # these select series, keeping their labels
    modifier = node.modifier
    if modifier is None:
        result: Labels = frozenset()
    elif str(modifier.type).endswith("By"):
        result = frozenset(modifier.labels)
    else:
        result = None if inner is None else inner - set(modifier.labels)
    if op == "count_values" and isinstance(node.param, pp.StringLiteral) and result is not None:
        result = result | {str(node.param.val) if hasattr(node.param, "val") else str(node.param).strip('"')}
    return result


def _call(node: pp.Call, records: Records, depth: int) -> Labels:
    name = node.func.name
    if name in _NO_LABELS:
        return frozenset()
    if name.startswith("absent"):
        return None  # the labels of its selector's equality matchers: not tracked
    vectors = [a for a in node.args if not _is_scalar(a)]
    inner = labels_of(vectors[0], records, depth) if vectors else frozenset()
    if name in ("label_replace", "label_join") and len(node.args) > 1 and inner is not None:
        target = node.args[1]
        return inner | {str(getattr(target, "val", str(target).strip('"')))}
    if name == "histogram_quantile" and inner is not None:
        return inner - {"le"}
    return inner


def _binary(node: pp.BinaryExpr, records: Records, depth: int) -> Labels:
    op = str(node.op).lower()
    lhs, rhs = labels_of(node.lhs, records, depth), labels_of(node.rhs, records, depth)
    if _is_scalar(node.lhs):
        return rhs
    if _is_scalar(node.rhs):
        return lhs
    modifier = node.modifier
    if op in _SET_OPS:
        return _union(lhs, rhs) if op == "or" else lhs
    matching = getattr(modifier, "matching", None) if modifier is not None else None
    card = str(getattr(modifier, "card", "")) if modifier is not None else ""
    comparison = op in ("==", "!=", ">", "<", ">=", "<=") and not getattr(modifier, "return_bool", False)
    extra = frozenset(getattr(modifier, "group_labels", None) or ())
    if card.endswith("OneToMany"):
        return _union(rhs, extra)
    if card.endswith("ManyToOne"):
        return _union(lhs, extra)
    if matching is not None and not comparison:
        listed = frozenset(matching.labels)
        if str(matching.type).endswith("Include"):  # on(...): only those labels are kept
            return listed if lhs is None else lhs & listed
        return None if lhs is None else lhs - listed
    return lhs


def labels_of(node: object, records: Records = None, depth: int = 0) -> Labels:
    """The labels a result of ``node`` may carry (None when any label of the selected series may be there).

    A selector of a recording rule's series (``records``: name -> expression) carries its expression's labels.
    """
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if isinstance(node, pp.VectorSelector):
        if records and node.name in records and depth < 5:
            return result_labels(records[node.name], records, depth + 1)
        return None
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return frozenset()
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return labels_of(node.expr, records, depth)
    if isinstance(node, pp.AggregateExpr):
        return _aggregate(node, records, depth)
    if isinstance(node, pp.Call):
        return _call(node, records, depth)
    if isinstance(node, pp.BinaryExpr):
        return _binary(node, records, depth)
    return None


def result_labels(expr: str, records: Records = None, depth: int = 0) -> Labels:
    """The labels ``expr``'s result may carry; None when unknown, open or the expression does not parse."""
    try:
        return labels_of(pp.parse(expr), records, depth)
    except ValueError:
        return None


def template_labels(text: str) -> list[str]:
    """Labels an alert template names (``{{ $labels.plant }}``, ``{{ .Labels.plant }}``), in order."""
    return list(dict.fromkeys(a or b for a, b in _TEMPLATE_LABEL.findall(text)))
