"""The lab assignment, part 1: the deployment runbook and its exact, runnable rollback command."""

from __future__ import annotations

import re

import pytest

from graders.lab06 import gcloud, rollback, runbook, sections
from graders.lab06.knative import ServiceSet
from graders.lab06.runbook import RUNBOOK, Section
from graders.sdk import Checklist, Submission, check, fail

MIN_WORDS = 25
THRESHOLD = re.compile(r"\b[0-9]+(?:\.[0-9]+)?\s?(?:%|ms\b|s\b|seconds?\b|minutes?\b|min\b|requests?\b)", re.I)
ERROR_METRIC = re.compile(r"5xx|error[- ]rate|errors?\b", re.I)
LATENCY_METRIC = re.compile(r"latenc|p9[059]\b|response time", re.I)
PROMOTION = re.compile(r"promot|proceed|next step|roll (it )?forward", re.I)
TODO = re.compile(r"\bTODO\b")


@pytest.fixture(scope="session")
def runbook_text(submission: Submission) -> str:
    return submission.read_text(RUNBOOK)


@pytest.fixture(scope="session")
def runbook_sections(runbook_text: str) -> list[Section]:
    return runbook.sections(runbook_text)


@check(
    8,
    "The runbook covers pre-deploy checks, deploy, smoke tests, canary analysis, rollback and escalation",
    section=sections.LAB,
    assignment=True,
)
def test_runbook_sections(submission: Submission, runbook_sections: list[Section], checklist: Checklist) -> None:
    found = {req.key: runbook.find(runbook_sections, req) for req in runbook.REQUIRED}
    for req in runbook.REQUIRED:
        section = found[req.key]
        if section is None:
            checklist.require(False, f'add a "## {req.label}" section', RUNBOOK)
            continue
        where = submission.location(RUNBOOK, section.line)
        unfinished = bool(TODO.search(section.body))
        checklist.require(
            section.words >= MIN_WORDS and not unfinished,
            f'"{section.title}" is '
            + ("still a TODO" if unfinished else f"too short ({section.words} words)")
            + f": write what the on-call engineer does there, step by step (at least {MIN_WORDS} words)",
            where,
        )
    canary = found["canary"]
    if canary is not None:
        body = canary.body
        thresholds = THRESHOLD.findall(body)
        missing = [
            what
            for what, ok in (
                ("the error rate (5xx share) of the canary", ERROR_METRIC.search(body)),
                ("its latency (p95 or p99)", LATENCY_METRIC.search(body)),
                ("numeric thresholds (e.g. '5xx above 1 %', 'p95 above 800 ms')", len(thresholds) >= 2),
                ("what decides promotion to the next step", PROMOTION.search(body)),
            )
            if not ok
        ]
        checklist.require(
            not missing,
            f'"{canary.title}" must name the metrics and thresholds that decide promotion or rollback; missing: '
            + "; ".join(missing),
            submission.location(RUNBOOK, canary.line),
            weight=2,
        )
    smoke = found["smoke"]
    if smoke is not None:
        commands = "\n".join(code for _, code in smoke.code_blocks())
        checklist.require(
            "smoke_test.py" in commands,
            f'"{smoke.title}" should show, in a code block, the command that runs scripts/smoke_test.py against the '
            "tagged revision (with the URL it takes), and say what a failure means",
            submission.location(RUNBOOK, smoke.line),
        )


@check(
    8,
    "The rollback section has an exact, runnable `gcloud run services update-traffic` command",
    section=sections.LAB,
    assignment=True,
)
def test_runbook_rollback_command(
    submission: Submission, runbook_sections: list[Section], services: ServiceSet
) -> None:
    section = next((runbook.find(runbook_sections, r) for r in runbook.REQUIRED if r.key == "rollback"), None)
    if section is None:
        fail('add a "## Rollback" section with the exact command that sends all traffic back', RUNBOOK)
    assert section is not None
    where = submission.location(RUNBOOK, section.line)
    blocks = section.code_blocks()
    calls = [
        (call, code, line)
        for line, code in blocks
        for call in gcloud.gcloud_calls(code)
        if call.is_("run", "services", "update-traffic")
    ]
    if not calls:
        fail(
            f'"{section.title}" has no `gcloud run services update-traffic` command in a code block: write the exact '
            "command, e.g. gcloud run services update-traffic SERVICE --region=REGION "
            "--to-revisions=STABLE_REVISION=100, with the real names",
            where,
        )
    api = services.api
    service_name = api.name if api is not None and api.name else None

    def for_api(call: gcloud.GcloudCall) -> bool:
        positionals = call.positionals("run", "services", "update-traffic")
        return not service_name or not positionals or "$" in positionals[0] or positionals[0] == service_name

    api_calls = [(call, code, line) for call, code, line in calls if for_api(call)]
    if not api_calls:
        fail(
            f'"{section.title}" rolls back other services but has no update-traffic command for the API '
            f"({service_name}, the service of deploy/cloudrun/service-api.yaml)",
            where,
        )
    reports = []
    for call, code, line in api_calls:
        problems = rollback.command_problems(call, code, service_name, rollback.canary_targets(api))
        if not problems:
            return
        reports.append((line + call.line - 1, call.text, problems))
    line, text, problems = reports[0]
    fail(
        f"the rollback command `{text}` does not roll back as written: " + "; ".join(problems),
        submission.location(RUNBOOK, line),
    )
