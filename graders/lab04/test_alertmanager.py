"""Alertmanager: pages reach PagerDuty, warnings reach Microsoft Teams, secrets stay in files."""

from __future__ import annotations

from typing import Any

import pytest

from graders.lab04 import alertmanager as am
from graders.lab04 import monitoring_files as files
from graders.lab04.promtool import output_excerpt
from graders.lab04.sections import SECTION_ALERTING
from graders.sdk import Checklist, ProcessResult, Submission, check, fail

PLANT_LABEL = "plant"


@pytest.fixture(scope="session")
def alertmanager_config(submission: Submission) -> dict[str, Any]:
    doc = submission.load_yaml(files.ALERTMANAGER)
    if not isinstance(doc, dict) or not isinstance(doc.get("route"), dict):
        fail(f"{files.ALERTMANAGER} needs a top-level 'route:' (the routing tree) and 'receivers:'", files.ALERTMANAGER)
    return doc


def _receivers(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(r.get("name")): r for r in config.get("receivers") or [] if isinstance(r, dict)}


def _line(submission: Submission, path: list[str | int]) -> str:
    line = submission.yaml_line(files.ALERTMANAGER, path)
    return f"{files.ALERTMANAGER}:{line}" if line else files.ALERTMANAGER


@check(7, "Alertmanager routes page alerts to PagerDuty and warnings to Microsoft Teams", section=SECTION_ALERTING)
def test_alertmanager_routing(
    submission: Submission,
    alertmanager_config: dict[str, Any],
    amtool_check: ProcessResult | None,
    rule_set: files.RuleSet,
    checklist: Checklist,
) -> None:
    if amtool_check is not None and not amtool_check.ok:
        fail(f"`amtool check-config` rejects {files.ALERTMANAGER}:\n{output_excerpt(amtool_check)}", files.ALERTMANAGER)
    receivers = _receivers(alertmanager_config)
    route = alertmanager_config["route"]
    undefined = sorted(am.referenced_receivers(route) - set(receivers))
    checklist.require(
        not undefined,
        f"routes name receivers that are not defined under 'receivers': {', '.join(undefined)}",
        _line(submission, ["route"]),
    )
    checklist.require(
        bool(route.get("receiver")), "the top-level route needs a default 'receiver'", _line(submission, ["route"])
    )
    # Every alert of the rules file, plus a bare alert of each severity, must land in the right place.
    probes = [(a.name, {**{str(k): str(v) for k, v in a.labels.items()}, "alertname": a.name}) for a in rule_set.alerts]
    probes += [(f"an alert with severity={s}", {"alertname": "Probe", "severity": s}) for s in ("page", "warning")]
    wrong: list[str] = []
    for name, labels in probes:
        severity = labels.get("severity")
        if severity not in ("page", "warning"):
            continue
        try:
            targets = [receivers.get(r, {}) for r in am.receivers_for(route, labels)]
        except am.RouteConfigError as exc:
            fail(f"{files.ALERTMANAGER}: {exc}", _line(submission, ["route"]))
        if severity == "page" and not any(am.is_pagerduty(t) for t in targets):
            wrong.append(f"{name} (severity page) reaches {_names(targets)}, not a receiver with pagerduty_configs")
        if severity == "warning" and not any(am.is_teams(t) for t in targets):
            wrong.append(f"{name} (severity warning) reaches {_names(targets)}, not a Microsoft Teams receiver")
        if severity == "warning" and any(am.is_pagerduty(t) for t in targets):
            wrong.append(f"{name} (severity warning) pages through PagerDuty; warnings belong in Teams")
    checklist.require(
        not wrong,
        "routing sends alerts to the wrong place: " + "; ".join(wrong[:4]),
        _line(submission, ["route", "routes"]),
        weight=4,
    )


def _names(targets: list[dict[str, Any]]) -> str:
    return ", ".join(str(t.get("name")) for t in targets if t) or "no receiver"


def _inhibition_matchers(rule: dict[str, Any], side: str) -> list[am.Matcher]:
    return am.route_matchers(
        {
            "matchers": rule.get(f"{side}_matchers"),
            "match": rule.get(f"{side}_match"),
            "match_re": rule.get(f"{side}_match_re"),
        }
    )


@check(
    5,
    "Alertmanager reads secrets from files, groups alerts and inhibits warnings during a page",
    section=SECTION_ALERTING,
)
def test_alertmanager_secrets_grouping(
    submission: Submission, alertmanager_config: dict[str, Any], checklist: Checklist
) -> None:
    inline = [
        f"{name}: {field}"
        for name, receiver in _receivers(alertmanager_config).items()
        for field in am.inline_secrets(receiver)
    ]
    checklist.require(
        not inline,
        "secrets are written inline (" + "; ".join(inline) + "): use routing_key_file / webhook_url_file pointing "
        "to a mounted secret, so the key never enters the repository",
        _line(submission, ["receivers"]),
    )
    if inline:  # a committed key is leaked whatever else is right: the check scores nothing
        checklist.deduct(1.0, "a secret in the repository outweighs the rest of this check", files.ALERTMANAGER)
    group_by = alertmanager_config["route"].get("group_by")
    checklist.require(
        isinstance(group_by, list) and bool(group_by),
        "the top-level route needs 'group_by' (for example [alertname, plant]) so one incident is one notification",
        _line(submission, ["route"]),
    )
    page, warning = {"severity": "page", "alertname": "A"}, {"severity": "warning", "alertname": "B"}
    inhibits, same_plant = False, False
    for rule in alertmanager_config.get("inhibit_rules") or []:
        if not isinstance(rule, dict):
            continue
        try:
            source, target = _inhibition_matchers(rule, "source"), _inhibition_matchers(rule, "target")
        except am.RouteConfigError as exc:
            fail(f"{files.ALERTMANAGER}: inhibit_rules: {exc}", _line(submission, ["inhibit_rules"]))
        if source and target and all(m.matches(page) for m in source) and all(m.matches(warning) for m in target):
            inhibits = True
            equal = rule.get("equal")
            same_plant = same_plant or (isinstance(equal, list) and PLANT_LABEL in [str(e) for e in equal])
    checklist.require(
        inhibits,
        "add an inhibit rule that mutes warnings while a page alert fires for the same plant "
        '(source_matchers: [severity="page"], target_matchers: [severity="warning"], equal: [plant])',
        _line(submission, ["inhibit_rules"]),
    )
    if inhibits:
        checklist.require(
            same_plant,
            "the inhibit rule that mutes warnings during a page has no `equal: [plant]`: without it a page at one "
            "plant silences the warnings of every plant; add `equal: [plant]`",
            _line(submission, ["inhibit_rules"]),
        )
