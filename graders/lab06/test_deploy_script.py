"""deploy/cloudrun/deploy.sh: shellcheck-clean and strict, a no-traffic canary release, rollback and least privilege.

The script is read, never run (it would call the real cloud): shellcheck lints it, and the gcloud
commands it would run are found by :mod:`graders.lab06.gcloud`.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

import pytest

from graders.lab06 import gcloud, sections
from graders.lab06.knative import CLOUDRUN_DIR
from graders.sdk import Checklist, GraderError, ProcessResult, Submission, SubmissionFileError, bash, check, run_tool
from graders.sdk.tools import require_tool

DEPLOY_SCRIPT = f"{CLOUDRUN_DIR}/deploy.sh"
SHELLCHECK_TIMEOUT_S = 60.0
BLOCKING_LEVELS = ("error", "warning")
STYLE_DEDUCTION = 0.1
MAX_STYLE_DEDUCTION = 0.5
FORBIDDEN_ROLES = re.compile(
    r"^roles/(owner|editor|viewer|iam\.serviceAccountTokenCreator|iam\.serviceAccountKeyAdmin|[A-Za-z]+\.admin)$"
)
ROLE = re.compile(r"\broles/[A-Za-z][A-Za-z0-9_.]*")
ROLLBACK_WORD = re.compile(r"roll[\s_-]?back", re.I)
PROMOTE_WORD = re.compile(r"promot", re.I)
TAG_FLAGS = ("--update-tags", "--set-tags")


@pytest.fixture(scope="session")
def deploy_script(submission: Submission) -> str:
    return submission.read_text(DEPLOY_SCRIPT)


@pytest.fixture(scope="session")
def gcloud_calls(deploy_script: str) -> list[gcloud.GcloudCall]:
    return gcloud.gcloud_calls(deploy_script)


@pytest.fixture(scope="session")
def shellcheck_run(submission: Submission, deploy_script: str) -> ProcessResult:
    shellcheck = require_tool("shellcheck")
    script = submission.path(DEPLOY_SCRIPT)
    return run_tool(
        [shellcheck, "--format=json1", "--shell=bash", "--external-sources", script.name],
        cwd=script.parent,
        timeout=SHELLCHECK_TIMEOUT_S,
    )


LONG_OPTIONS = {"errexit": "e", "nounset": "u"}


def strict_mode(script: str) -> bool:
    """``set -euo pipefail`` at the top level, in any spelling (``set -e -u -o pipefail``, ``-o errexit`` ...)."""
    options: set[str] = set()
    for command in bash.commands(script):
        if command.words[0] != "set" or command.position[1] != 0:
            continue
        args = list(command.words[1:])
        i = 0
        while i < len(args):
            letters = args[i][1:] if re.fullmatch(r"-[a-zA-Z]+", args[i]) else ""
            if letters.endswith("o") and i + 1 < len(args):
                options.add(LONG_OPTIONS.get(args[i + 1], args[i + 1]))
                letters = letters[:-1]
                i += 1
            options.update(letters)
            i += 1
    return options >= {"e", "u", "pipefail"}


def shellcheck_findings(result: ProcessResult) -> list[dict[str, object]]:
    try:
        comments = json.loads(result.stdout or "{}").get("comments", [])
    except (ValueError, AttributeError):
        raise GraderError(f"shellcheck gave output the grader cannot read: {result.tail(5)}") from None
    return [c for c in comments if isinstance(c, dict)]


def _shown(findings: list[dict[str, object]], limit: int = 8) -> str:
    lines = [
        f"    {PurePosixPath(DEPLOY_SCRIPT).name}:{f.get('line')}:{f.get('column')}: {f.get('level')} "
        f"SC{f.get('code')}: {f.get('message')}"
        for f in findings[:limit]
    ]
    more = len(findings) - limit
    return "\n".join(lines) + (f"\n    ... and {more} more" if more > 0 else "")


@check(6, "deploy.sh passes shellcheck and runs with set -euo pipefail", section=sections.IAM)
def test_deploy_script_lint(
    submission: Submission, deploy_script: str, shellcheck_run: ProcessResult, checklist: Checklist
) -> None:
    checklist.require(
        strict_mode(deploy_script),
        f"{DEPLOY_SCRIPT} must start with `set -euo pipefail` (before any gcloud call): without it a failed "
        "deploy step is ignored and the next step (shifting traffic) runs anyway",
        submission.location(DEPLOY_SCRIPT, 1),
    )
    if shellcheck_run.timed_out:
        raise GraderError(f"shellcheck did not finish within {SHELLCHECK_TIMEOUT_S:g} s")
    findings = shellcheck_findings(shellcheck_run)
    blocking = [f for f in findings if f.get("level") in BLOCKING_LEVELS]
    checklist.require(
        not blocking,
        f"shellcheck reports {len(blocking)} error(s)/warning(s) in {DEPLOY_SCRIPT}:\n{_shown(blocking)}",
        submission.location(DEPLOY_SCRIPT, int(str(blocking[0].get("line"))) if blocking else None),
        weight=2,
    )
    style = [f for f in findings if f.get("level") not in BLOCKING_LEVELS]
    if style:
        checklist.deduct(
            min(MAX_STYLE_DEDUCTION, STYLE_DEDUCTION * len(style)),
            f"shellcheck style notes in {DEPLOY_SCRIPT}:\n{_shown(style, 4)}",
            DEPLOY_SCRIPT,
        )


def _at(submission: Submission, call: gcloud.GcloudCall) -> str:
    return submission.location(DEPLOY_SCRIPT, call.line)


def _in_step(script: str, call: gcloud.GcloudCall, word: re.Pattern[str]) -> bool:
    """The call is in a function or case branch about the step, or right under a comment that says so."""
    lines = script.splitlines()
    context = "\n".join(lines[max(0, call.line - 6) : call.line])
    return bool(word.search(call.function) or word.search(context))


def _in_rollback(script: str, call: gcloud.GcloudCall) -> bool:
    return _in_step(script, call, ROLLBACK_WORD)


def _all_traffic_to(call: gcloud.GcloudCall) -> list[tuple[str, str]]:
    """(flag, target) of the assignments that send 100 % of the traffic somewhere."""
    return [(flag, target) for flag, target, percent in gcloud.traffic_assignments(call) if percent == "100"]


def _tags_moved(call: gcloud.GcloudCall) -> set[str]:
    return {
        entry.partition("=")[0].strip() for flag in TAG_FLAGS for value in call.flag(flag) for entry in value.split(",")
    }


@check(
    8,
    "deploy.sh deploys without traffic under a tag, shifts traffic in canary steps, promotes and rolls back",
    section=sections.CANARY,
)
def test_deploy_script_release(
    submission: Submission, deploy_script: str, gcloud_calls: list[gcloud.GcloudCall], checklist: Checklist
) -> None:
    deploys = [c for c in gcloud_calls if c.is_("run", "deploy")]
    checklist.require(
        any(c.has("--no-traffic") for c in deploys),
        "no `gcloud run deploy ... --no-traffic`: a new revision must start without traffic, so it can be smoke "
        "tested before any user reaches it",
        _at(submission, deploys[0]) if deploys else DEPLOY_SCRIPT,
        weight=2,
    )
    checklist.require(
        any(c.has("--tag") and c.has("--no-traffic") for c in deploys),
        "the no-traffic deploy needs `--tag canary`: the tag gives the revision its own URL "
        "(https://canary---SERVICE-...run.app) for the smoke test and for canary traffic",
        _at(submission, deploys[0]) if deploys else DEPLOY_SCRIPT,
    )
    shifts = [c for c in gcloud_calls if c.is_("run", "services", "update-traffic")]
    steps = [
        (call, percent)
        for call in shifts
        for flag, _, percent in gcloud.traffic_assignments(call)
        if flag != "--to-latest" and percent != "100"
    ]
    checklist.require(
        bool(steps),
        "no canary step: shift part of the traffic to the tagged revision with "
        "`gcloud run services update-traffic SERVICE --to-tags canary=10` (repeated with growing percentages)",
        _at(submission, shifts[0]) if shifts else DEPLOY_SCRIPT,
        weight=2,
    )
    rollbacks = [
        call
        for call in shifts
        if any(flag != "--to-latest" and percent == "100" for flag, _, percent in gcloud.traffic_assignments(call))
        and _in_rollback(deploy_script, call)
    ]
    checklist.require(
        bool(rollbacks),
        "no one-command rollback: a `rollback` step with `gcloud run services update-traffic SERVICE "
        "--to-revisions=STABLE_REVISION=100` (or --to-tags=stable=100) that sends all traffic back at once",
        DEPLOY_SCRIPT,
        weight=2,
    )
    canary_tags = {tag for call in deploys if call.has("--no-traffic") for tag in call.flag("--tag") if tag}
    to_canary = [
        call
        for call in rollbacks
        if any(flag == "--to-tags" and target in canary_tags for flag, target in _all_traffic_to(call))
    ]
    if rollbacks:
        checklist.require(
            not to_canary,
            "the rollback sends 100 % to the canary's tag, which is the release being rolled back: send it to the "
            "stable revision (--to-tags stable=100, or --to-revisions=STABLE_REVISION=100)",
            _at(submission, to_canary[0]) if to_canary else DEPLOY_SCRIPT,
            weight=2,
        )
    rollback_tags = {target for call in rollbacks for flag, target in _all_traffic_to(call) if flag == "--to-tags"}
    promotes = [
        call
        for call in gcloud_calls
        if call.is_("run", "services")
        and _in_step(deploy_script, call, PROMOTE_WORD)
        and not _in_rollback(deploy_script, call)
    ]
    moves_all = [call for call in promotes if call.is_("run", "services", "update-traffic") and _all_traffic_to(call)]
    moved = set().union(*(_tags_moved(call) for call in promotes))
    checklist.require(
        bool(moves_all) and rollback_tags <= moved,
        "no complete promote step: `promote` must send 100 % to the new revision and move the tag the rollback "
        f"uses ({', '.join(sorted(rollback_tags)) or 'stable'}) onto it, e.g. `gcloud run services update-traffic "
        "SERVICE --to-revisions NEW=100 --update-tags stable=NEW`; a tag left on the old revision sends the next "
        "rollback to the wrong release",
        _at(submission, promotes[0]) if promotes else DEPLOY_SCRIPT,
        weight=2,
    )
    latest = [c for c in shifts if c.has("--to-latest") and _in_rollback(deploy_script, c)]
    if latest:
        checklist.require(
            False,
            "the rollback uses --to-latest, which sends traffic to the newest revision: the broken one",
            _at(submission, latest[0]),
        )


def role_grants(submission: Submission, script: str, calls: list[gcloud.GcloudCall]) -> list[tuple[str, str, bool]]:
    """(role, location, justified) for every role the deploy step grants: --role flags and roles list files."""
    grants = []
    lines = script.splitlines()
    for call in calls:
        for role in call.flag("--role"):
            if role.startswith("roles/"):
                above = lines[max(0, call.line - 3) : call.line - 1]
                same = lines[call.line - 1] if call.line - 1 < len(lines) else ""
                justified = "#" in same or any(line.strip().startswith("#") for line in above)
                grants.append((role, submission.location(DEPLOY_SCRIPT, call.line), justified))
    for path in submission.glob(f"{CLOUDRUN_DIR}/*"):
        name = PurePosixPath(path).name
        if path == DEPLOY_SCRIPT or not re.search(r"iam|role", name, re.I) or name.endswith((".yaml", ".yml")):
            continue
        try:
            text = submission.read_text(path)
        except SubmissionFileError:
            continue
        previous = ""
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped.startswith(("#", "//")):
                for match in ROLE.finditer(line):
                    reason = line[match.end() :].strip(" \t|,;:-#")
                    justified = len(reason.split()) >= 2 or previous.startswith(("#", "//"))
                    grants.append((match.group(0), submission.location(path, number), justified))
            previous = stripped
    return grants


# What the service definition needs its runtime account to hold: (roles that satisfy it, why).
NEEDED_ROLES = (
    (("roles/secretmanager.secretAccessor",), "roles/secretmanager.secretAccessor on the secrets the service mounts"),
    (("roles/cloudsql.client",), "roles/cloudsql.client for the Cloud SQL connection"),
    (
        ("roles/storage.objectViewer", "roles/storage.objectUser", "roles/storage.legacyObjectReader"),
        "a read role on the documents bucket (roles/storage.objectViewer)",
    ),
)
BROAD_DEDUCTION = 1.0  # Owner/Editor/admin on a runtime account: the whole check
UNJUSTIFIED_DEDUCTION = 0.25


@check(5, "deploy.sh creates service accounts with least-privilege, justified roles", section=sections.IAM)
def test_deploy_script_iam(
    submission: Submission, deploy_script: str, gcloud_calls: list[gcloud.GcloudCall], checklist: Checklist
) -> None:
    checklist.require(
        any(c.is_("iam", "service-accounts", "create") for c in gcloud_calls),
        "deploy.sh creates no service account: add `gcloud iam service-accounts create` for the API (and the "
        "worker), so each service runs with its own identity",
        DEPLOY_SCRIPT,
    )
    grants = role_grants(submission, deploy_script, gcloud_calls)
    granted = {role for role, _, _ in grants}
    for roles, what in NEEDED_ROLES:
        checklist.require(
            bool(granted & set(roles)),
            f"grant {what}: without it the revision cannot start or serve (list each role with its reason, for "
            f"example in {CLOUDRUN_DIR}/iam-roles.txt, and grant it with add-iam-policy-binding)",
            DEPLOY_SCRIPT,
        )
    broad = [(role, where) for role, where, _ in grants if FORBIDDEN_ROLES.match(role)]
    if broad:
        checklist.deduct(
            BROAD_DEDUCTION * len(broad),
            "roles far beyond what the runtime needs: "
            + ", ".join(f"{role} ({where})" for role, where in broad[:4])
            + "; grant narrow roles on the resource (roles/secretmanager.secretAccessor on the secret, "
            "roles/storage.objectViewer on the bucket)",
            broad[0][1],
        )
    unexplained = [(role, where) for role, where, justified in grants if not justified]
    if unexplained:
        checklist.deduct(
            UNJUSTIFIED_DEDUCTION,
            "give each role its justification (why the service needs it): "
            + ", ".join(f"{role} ({where})" for role, where in unexplained[:4]),
            unexplained[0][1],
        )
