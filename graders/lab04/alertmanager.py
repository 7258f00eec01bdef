"""Which Alertmanager receivers an alert reaches, following Alertmanager's routing rules.

``amtool config routes test`` does this where amtool is installed; this small model of the same
rules (matchers, legacy ``match``/``match_re``, ``continue``, receiver inheritance) lets the grader
check routing everywhere. Only routing is modelled; ``amtool check-config`` validates the rest
when it is available.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*$')
TEAMS_KEYS = ("msteams_configs", "msteamsv2_configs")
PAGERDUTY_KEY = "pagerduty_configs"
# Incoming-webhook hosts of Microsoft Teams (legacy connectors, Workflows/Power Automate).
TEAMS_HOSTS = ("webhook.office.com", "logic.azure.com", "powerplatform.com", "office365")


class RouteConfigError(ValueError):
    """The route tree cannot be followed; the message says where."""


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        try:
            hit = re.fullmatch(self.value, actual) is not None
        except re.error as exc:
            raise RouteConfigError(f"invalid regular expression {self.value!r}: {exc}") from None
        return hit == (self.op == "=~")


def parse_matcher(text: str) -> Matcher:
    match = _MATCHER.match(str(text))
    if not match:
        raise RouteConfigError(f'cannot read matcher {text!r}; write it like severity="page"')
    label, op, quoted, bare = match.groups()
    value = quoted.encode().decode("unicode_escape") if quoted is not None else (bare or "")
    return Matcher(label, op, value)


def route_matchers(route: dict[str, Any]) -> list[Matcher]:
    result = [parse_matcher(m) for m in route.get("matchers") or []]
    result += [Matcher(str(k), "=", str(v)) for k, v in (route.get("match") or {}).items()]
    result += [Matcher(str(k), "=~", str(v)) for k, v in (route.get("match_re") or {}).items()]
    return result


def receivers_for(route: dict[str, Any], labels: dict[str, str], inherited: str | None = None) -> list[str]:
    """The receivers an alert with ``labels`` is sent to (depth-first, first match unless continue)."""
    receiver = route.get("receiver") or inherited
    found: list[str] = []
    for child in route.get("routes") or []:
        if not isinstance(child, dict):
            raise RouteConfigError("every entry of 'routes' must be a mapping with a receiver and matchers")
        if all(m.matches(labels) for m in route_matchers(child)):
            found += receivers_for(child, labels, receiver)
            if not child.get("continue", False):
                break
    if found:
        return found
    return [receiver] if receiver else []


def referenced_receivers(route: dict[str, Any]) -> set[str]:
    names = {str(route["receiver"])} if route.get("receiver") else set()
    for child in route.get("routes") or []:
        if isinstance(child, dict):
            names |= referenced_receivers(child)
    return names


def is_teams(receiver: dict[str, Any]) -> bool:
    if any(receiver.get(k) for k in TEAMS_KEYS):
        return True
    for hook in receiver.get("webhook_configs") or []:
        target = f"{hook.get('url', '')} {hook.get('url_file', '')}".lower()
        if "teams" in target or any(h in target for h in TEAMS_HOSTS):
            return True
    return False


def is_pagerduty(receiver: dict[str, Any]) -> bool:
    return bool(receiver.get(PAGERDUTY_KEY))


def inline_secrets(receiver: dict[str, Any]) -> list[str]:
    """Secret-bearing fields written inline instead of read from a file (``*_file``)."""
    found = []
    for pd in receiver.get(PAGERDUTY_KEY) or []:
        for key in ("routing_key", "service_key"):
            if pd.get(key):
                found.append(f"{PAGERDUTY_KEY}.{key}")
    for teams_key in TEAMS_KEYS:
        for cfg in receiver.get(teams_key) or []:
            if cfg.get("webhook_url"):
                found.append(f"{teams_key}.webhook_url")
    for hook in receiver.get("webhook_configs") or []:
        url = str(hook.get("url") or "").lower()
        if any(h in url for h in TEAMS_HOSTS):
            found.append("webhook_configs.url")
    return found
