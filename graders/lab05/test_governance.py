"""Lab 05 governance check: branch protection as code (a repository ruleset) and code owners."""

from __future__ import annotations

import fnmatch
from typing import Any

import pathspec

from graders.lab05 import sections, workflow
from graders.lab05.severity import require_severe
from graders.lab05.workflow import Workflow
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail

RULESET_DIR = ".github/rulesets"
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order
# Paths whose changes need an accountable reviewer in a regulated plant.
OWNED_PATHS = (
    "src/copilot/vision/model.py",
    "src/copilot/rag/prompts.py",
    "src/copilot/api/routes.py",
    "docs/model-card.md",
    ".github/workflows/main.yml",
)
MAIN_REFS = {"~DEFAULT_BRANCH", "~ALL", "refs/heads/main"}


def _ruleset(submission: Submission) -> tuple[str, dict[str, Any]]:
    candidates = sorted(p for p in submission.glob(f"{RULESET_DIR}/*.json", under=RULESET_DIR))
    if not candidates:
        fail(
            f"no ruleset under {RULESET_DIR}/: write the main branch's protection as a ruleset JSON ready for "
            "`gh api repos/OWNER/REPO/rulesets --input FILE` (e.g. .github/rulesets/main.json)",
            RULESET_DIR,
        )
    path = f"{RULESET_DIR}/main.json" if f"{RULESET_DIR}/main.json" in candidates else candidates[0]
    data = submission.load_json(path)
    if not isinstance(data, dict):
        raise SubmissionFileError(f"{path} must be a JSON object (a repository ruleset)", path)
    return path, data


def _rules(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = data.get("rules")
    rules = raw if isinstance(raw, list) else []
    return {str(r.get("type")): (r.get("parameters") or {}) for r in rules if isinstance(r, dict)}


def _codeowners(submission: Submission) -> tuple[str | None, list[tuple[str, list[str]]]]:
    path = next((p for p in CODEOWNERS_PATHS if submission.is_file(p)), None)
    if path is None:
        return None, []
    entries = []
    for line in submission.read_lines(path):
        text = line.split("#", 1)[0].strip() if not line.lstrip().startswith("\\#") else line.strip()
        if text:
            pattern, *owners = text.split()
            entries.append((pattern, owners))
    return path, entries


def _owners_of(entries: list[tuple[str, list[str]]], path: str) -> list[str]:
    owners: list[str] = []
    for pattern, line_owners in entries:  # the last matching line wins
        if pathspec.PathSpec.from_lines("gitwildmatch", [pattern]).match_file(path):
            owners = line_owners
    return [o for o in owners if o.startswith("@") or "@" in o]


@check(points=5, name="Branch protection as code: ruleset with reviews, code owners, checks, signatures",
       section=sections.GOVERNANCE)
def test_branch_protection(submission: Submission, pipeline: Workflow, checklist: Checklist) -> None:
    path, data = _ruleset(submission)
    rules = _rules(data)
    checklist.require(
        data.get("target", "branch") == "branch" and data.get("enforcement") == "active",
        f"{path}: a branch ruleset must have `\"target\": \"branch\"` and `\"enforcement\": \"active\"` "
        f"(found target={data.get('target')!r}, enforcement={data.get('enforcement')!r})",
        path,
    )
    conditions = data.get("conditions")
    ref_name = conditions.get("ref_name") if isinstance(conditions, dict) else None
    include = (ref_name.get("include") if isinstance(ref_name, dict) else None) or []
    checklist.require(
        bool(MAIN_REFS & {str(i) for i in include}),
        f"{path}: `conditions.ref_name.include` must cover main (\"~DEFAULT_BRANCH\" or \"refs/heads/main\")",
        path,
    )
    review = rules.get("pull_request")
    count = review.get("required_approving_review_count", 0) if review is not None else 0
    owners_review = review is not None and review.get("require_code_owner_review") is True
    require_severe(
        checklist,
        owners_review and isinstance(count, int) and count >= 1,
        f"{path}: add a `pull_request` rule with `required_approving_review_count` >= 1 and "
        "`require_code_owner_review: true`, so a code owner other than the author approves every change",
        path,
    )
    for rule, why in (("required_signatures", "signed commits"), ("required_linear_history", "a linear history")):
        checklist.require(rule in rules, f"{path}: add the `{rule}` rule ({why})", path)
    required = rules.get("required_status_checks")
    contexts = [str(c.get("context")) for c in (required or {}).get("required_status_checks", [])
                if isinstance(c, dict)]
    names = [name for job in pipeline.jobs.values() for name in workflow.check_names(job)]
    unknown = [c for c in contexts if not any(fnmatch.fnmatchcase(c, n) for n in names)]
    gate_names = [n for job in pipeline.jobs.values() if "check_pr_docs.py" in job.run_text
                  for n in workflow.check_names(job)]
    checklist.require(
        contexts and not unknown and any(fnmatch.fnmatchcase(c, n) for c in contexts for n in gate_names),
        f"{path}: `required_status_checks` must list the pipeline's check names, including the PR docs gate job"
        + (f"; these match no job in {pipeline.path}: {', '.join(unknown)} (jobs report as: {', '.join(names)})"
           if unknown else "")
        + ("" if contexts else "; it lists none"),
        path,
    )
    owners_path, entries = _codeowners(submission)
    unowned = [p for p in OWNED_PATHS if not _owners_of(entries, p)]
    require_severe(
        checklist,
        owners_path is not None and not unowned,
        "CODEOWNERS (.github/CODEOWNERS) must assign an owner to the model, prompt and serving code, the model card "
        "and the workflows" + (f"; nobody owns: {', '.join(unowned)}" if owners_path else "; the file is missing"),
        owners_path or ".github/CODEOWNERS",
    )
