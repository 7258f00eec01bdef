"""What makes a runbook's rollback command exact and runnable, judged the way gcloud would read it.

The command is parsed, not run (``graders.lab06.gcloud``): it must name the API's service and a region,
send all traffic somewhere (``REVISION=100`` or ``TAG=100``), use only flags ``update-traffic`` knows,
hold no placeholder, set every shell variable it uses in its own code block, and never send the
traffic to the release being rolled back (the new revision of the service YAML, or its tag).
"""

from __future__ import annotations

import re

from graders.lab06 import gcloud
from graders.lab06.knative import Service

PLACEHOLDER = re.compile(r"<[^>]*>|\.\.\.|…|\bYOUR[_-]|\bREPLACE[_-]?ME\b", re.I)
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# Flags `gcloud run services update-traffic` accepts (its own and gcloud's global flags).
UPDATE_TRAFFIC_FLAGS = frozenset(
    {
        "--to-revisions",
        "--to-tags",
        "--to-latest",
        "--region",
        "--project",
        "--platform",
        "--async",
        "--quiet",
        "-q",
        "--update-tags",
        "--set-tags",
        "--remove-tags",
        "--clear-tags",
        "--format",
        "--verbosity",
        "--account",
        "--impersonate-service-account",
        "--billing-project",
        "--configuration",
        "--log-http",
        "--user-output-enabled",
        "--no-user-output-enabled",
    }
)


def _assigned(name: str, code: str) -> bool:
    return bool(re.search(rf"(^|[\s;(]|export\s+|local\s+){re.escape(name)}=", code, re.M))


def canary_targets(api: Service | None) -> tuple[set[str], set[str]]:
    """(revision names, tags) that mean the release being rolled back, read from the API's service YAML.

    The new revision is ``spec.template.metadata.name``; its traffic entries (or ``latestRevision``
    entries) and their tags point at it too. Sending 100 % there is promoting the canary, not a rollback.
    """
    if api is None:
        return set(), set()
    new = api.revision_name
    revisions = {new} if new else set()
    tags: set[str] = set()
    traffic = api.traffic if isinstance(api.traffic, list) else []
    for entry in traffic:
        if not isinstance(entry, dict) or not entry.get("tag"):
            continue
        if (new and entry.get("revisionName") == new) or entry.get("latestRevision") is True:
            tags.add(str(entry["tag"]))
    return revisions, tags


def command_problems(
    call: gcloud.GcloudCall,
    code: str,
    service_name: str | None,
    canary: tuple[set[str], set[str]] = (set(), set()),
) -> list[str]:
    """Why gcloud would refuse or misapply this update-traffic command (empty: runnable)."""
    problems = []
    positionals = call.positionals("run", "services", "update-traffic")
    if len(positionals) != 1:
        problems.append("name exactly one service after update-traffic")
    unknown = sorted(f for f in call.flags if f not in UPDATE_TRAFFIC_FLAGS)
    if unknown:
        problems.append(f"gcloud does not know {', '.join(unknown)} for update-traffic")
    assignments = gcloud.traffic_assignments(call)
    if not assignments:
        problems.append("say where the traffic goes: --to-revisions=REVISION=100")
    elif any(flag == "--to-latest" for flag, _, _ in assignments):
        problems.append("--to-latest sends traffic to the newest revision, which is the one being rolled back")
    elif not any(percent == "100" for _, _, percent in assignments):
        problems.append("a rollback sends all traffic back: REVISION=100")
    else:
        revisions, tags = canary
        to_canary = [
            target
            for flag, target, percent in assignments
            if percent == "100" and target in (revisions if flag == "--to-revisions" else tags)
        ]
        if to_canary:
            what = f"revision {to_canary[0]} is" if to_canary[0] in revisions else f"tag {to_canary[0]} names"
            problems.append(
                f"the {what} the new (canary) revision of deploy/cloudrun/service-api.yaml, so this command "
                "promotes the release instead of rolling it back; send 100 % to the stable revision (the one that "
                "holds the traffic in spec.traffic, or its tag)"
            )
    if not call.has("--region") and "run/region" not in code:
        problems.append("add --region (without it gcloud stops to ask, in the middle of an incident)")
    words = [*positionals, *(target for _, target, _ in assignments)]
    placeholders = [w for w in words if PLACEHOLDER.search(w)]
    if placeholders:
        problems.append(
            f"replace the placeholder(s) {', '.join(placeholders)} by the real names (or shell variables set in "
            "the same block)"
        )
    unset = sorted({v for w in words for v in VARIABLE.findall(w) if not _assigned(v, code)})
    if unset:
        problems.append(f"set {', '.join(unset)} in the same code block before the command, so it can be pasted as is")
    if service_name and positionals and "$" not in positionals[0] and positionals[0] != service_name:
        problems.append(
            f"the service is {positionals[0]!r}, but deploy/cloudrun/service-api.yaml names {service_name!r}"
        )
    prefix = positionals[0] + "-" if positionals and "$" not in positionals[0] else None
    for flag, target, _ in assignments:
        literal = "$" not in target and not PLACEHOLDER.search(target)
        if flag == "--to-revisions" and prefix and literal and not target.startswith(prefix):
            problems.append(f"{target!r} is not a revision of {positionals[0]} (revision names start with {prefix})")
    return problems
