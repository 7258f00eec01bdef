"""Kubernetes label-selector semantics, for deciding which pods a Service, PDB or policy selects."""

from __future__ import annotations

from typing import Any


def service_selects(selector: Any, labels: dict[str, str]) -> bool:
    """A Service's plain ``spec.selector`` map; an empty one selects no pods (it manages no endpoints)."""
    if not isinstance(selector, dict) or not selector:
        return False
    return all(labels.get(str(k)) == str(v) for k, v in selector.items())


def label_selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A ``LabelSelector`` (``matchLabels`` and ``matchExpressions``); ``{}`` selects every pod."""
    if selector is None:
        return False
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return False
    if any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, dict) or not _expression_matches(expression, labels):
            return False
    return True


def _expression_matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key = str(expression.get("key"))
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False
