"""Unit tests of the lab06 grader's parts: Knative's probe defaults, pinned secret versions, runbook
headings and what a rollback command must not do (promote the canary)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.lab06 import gcloud, runbook
from graders.lab06.knative import SERVICE_API, Service, structure_problems
from graders.lab06.rollback import canary_targets, command_problems
from graders.lab06.secret_refs import secret_problems
from graders.sdk import bash

REFERENCE = Path(__file__).resolve().parents[2] / "reference_solution"


@pytest.fixture(scope="module")
def api_doc() -> dict[str, Any]:
    return yaml.safe_load((REFERENCE / SERVICE_API).read_text(encoding="utf-8"))


def _service(doc: dict[str, Any]) -> Service:
    return Service(SERVICE_API, doc, single=True)


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


def test_probes_without_a_port_are_valid_knative(api_doc: dict[str, Any]) -> None:
    """Knative defaults a probe's port to the container port; the PodSpec schema alone would require it."""
    doc = copy.deepcopy(api_doc)
    for probe in ("startupProbe", "livenessProbe"):
        del _container(doc)[probe]["httpGet"]["port"]
    assert structure_problems(_service(doc)) == []


def test_a_misspelt_probe_field_is_still_refused(api_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(api_doc)
    _container(doc)["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    assert any("paht" in message for message, _ in structure_problems(_service(doc)))


@pytest.mark.parametrize(("key", "pinned"), [("3", True), ("latest", False), ("", False), ("v3", False)])
def test_secret_versions_must_be_pinned(api_doc: dict[str, Any], key: str, pinned: bool) -> None:
    doc = copy.deepcopy(api_doc)
    jwt = next(e for e in _container(doc)["env"] if e["name"] == "COPILOT_JWT_SECRET")
    jwt["valueFrom"]["secretKeyRef"]["key"] = key
    problems, provides_jwt = secret_problems(_service(doc))
    assert (not problems) is pinned
    assert provides_jwt is bool(key)


def test_a_secret_volume_item_must_be_pinned(api_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(api_doc)
    doc["spec"]["template"]["spec"]["volumes"] = [
        {"name": "jwt", "secret": {"secretName": "k", "items": [{"key": "latest", "path": "copilot_jwt_secret"}]}}
    ]
    problems, _ = secret_problems(_service(doc))
    assert any("never latest" in p for p in problems)


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("Rolling back", "rollback"),
        ("5. Rolled back releases", "rollback"),
        ("Roll-back", "rollback"),
        ("Canary analysis and promotion", "canary"),
    ],
)
def test_runbook_headings_in_other_words(heading: str, key: str) -> None:
    text = f"# Runbook\n\n## Smoke testing the canary\n\nwords\n\n## {heading}\n\nwords\n"
    requirement = next(r for r in runbook.REQUIRED if r.key == key)
    found = runbook.find(runbook.sections(text), requirement)
    assert found is not None and found.title == heading


def test_a_heading_naming_two_sections_is_used_when_nothing_else_matches() -> None:
    text = "# Runbook\n\n## Smoke testing the canary\n\nwords\n"
    canary = next(r for r in runbook.REQUIRED if r.key == "canary")
    found = runbook.find(runbook.sections(text), canary)
    assert found is not None and found.title == "Smoke testing the canary"


@pytest.mark.parametrize(
    ("target", "promotes"),
    [
        ("--to-revisions=mfgcp-prod-euw4-api-v1-3-2=100", False),
        ("--to-tags stable=100", False),
        ("--to-revisions=mfgcp-prod-euw4-api-v1-4-0=100", True),
        ("--to-tags canary=100", True),
    ],
)
def test_a_rollback_to_the_canary_is_refused(api_doc: dict[str, Any], target: str, promotes: bool) -> None:
    code = f"gcloud run services update-traffic mfgcp-prod-euw4-api --region europe-west4 {target}"
    call = gcloud.gcloud_calls(code)[0]
    problems = command_problems(call, code, "mfgcp-prod-euw4-api", canary_targets(_service(api_doc)))
    assert any("promotes the release" in p for p in problems) is promotes
    assert bool(problems) is promotes


WRAPPED = """#!/usr/bin/env bash
set -euo pipefail
gcloud_run() { gcloud run "$@" --region "$REGION"; }
rollback() {
  local stable
  stable="$(gcloud run revisions list --service api \\
    --format='value(name)' --limit 1)"  # the previous revision
  gcloud_run services update-traffic api --to-revisions="${stable}=100" 2>&1 | tee rollback.log
}
cat <<'DOC'
gcloud run services update-traffic api --to-latest
DOC
"""


def test_gcloud_calls_follow_continuations_substitutions_and_wrappers() -> None:
    calls = gcloud.gcloud_calls(WRAPPED)
    assert [(c.words[:3], c.function, c.line) for c in calls] == [
        (("run", "revisions", "list"), "rollback", 6),
        (("run", "services", "update-traffic"), "rollback", 8),
    ]
    assert calls[0].flag("--format") == ["value(name)"] and calls[0].flag("--limit") == ["1"]
    assert gcloud.traffic_assignments(calls[1]) == [("--to-revisions", "${stable}", "100")]
    assert calls[1].flag("--region") == ["$REGION"]  # from the wrapper; heredoc text is not a command


def test_precommands_and_redirections_are_not_words() -> None:
    (command,) = bash.commands("sudo env A=1 gcloud run deploy api --no-traffic > out.txt 2>&1")
    assert command.argv == ("gcloud", "run", "deploy", "api", "--no-traffic")
