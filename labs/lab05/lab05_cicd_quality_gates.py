# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 05 · CI/CD with GitHub Actions and quality gates
#
# Week 11-12 · Production deployment and capstone. Lab 05 of 8.

# %% [markdown]
# ## Learning objectives and business impact
#
# After this notebook you can:
#
# - Build a workflow with lint, test, build, Trivy scan and staged deploy jobs
# - Test across Python versions and operating systems with a matrix
# - Protect regulated-plant branches with rulesets, code owners and approvals
# - Authenticate to GCP with GitHub OIDC and collect audit evidence as artefacts
#
# **Business impact.** Every change to the Copilot reaches technicians on the shop floor. A pipeline
# with real gates makes "we tested it" a fact the plant can check: nothing merges without tests, a
# scan and a reviewer; nothing deploys that was not scanned; no long-lived cloud key exists to leak;
# and every release leaves the evidence an ISO 9001 auditor samples, without anyone assembling it by hand.

# %% [markdown]
# ## Factory narrative
#
# **Riverbend Stamping Plant (RVB01)** of **Meridian Industrial Group** runs the Copilot for lines
# press-1, weld-2 and paint-3. Until now releases were a laptop, a `gcloud` command and a message in the
# team channel. The last internal audit found that nobody could show which tests a release had passed or
# who approved it.
#
# - **Priya Nair (quality engineer)** approves every release that changes what the Copilot answers
#   (ISO 9001 clause 8.5.6, control of changes) and wants the model card and a runbook updated with it.
# - **Marco Bianchi (IT/OT security officer)** wants no cloud key in GitHub, images scanned before they
#   run, and every third-party action pinned so that nobody can swap its code underneath the plant.
# - **Declan Murphy (maintenance lead)** has technicians on Windows laptops and a few Macs in the
#   quality lab: the client tooling must work there too.
# - **Aiko Tanaka (platform engineer)** owns the deployment identity and the staging environment.
# - **Helena Brandt (plant manager)** wants releases to stop being events: small, frequent and boring.
# - **Jordan Rivera (MLOps engineer)**, you, build the pipeline and the gate that keeps the documents honest.
#
# **Constraints.**
#
# - *Intermittent connectivity at the edge*: edge hosts pull released images when their link is up, so a
#   release must be a complete, scanned, versioned artefact, never a rebuild at the plant.
# - *ISO 9001 audits*: approvals, test reports and scan results are kept as evidence for 90 days, named
#   by commit.
# - *EU data residency*: the deploy job reaches only the EMEA project and region; secrets stay in Secret
#   Manager there.
# - *GPU scarcity*: CI runs on CPU runners (the CPU build of torch); GPU images are built, never tested
#   on scarce GPUs in CI.
#
# ```mermaid
# flowchart LR
#     pr["pull request<br/>template checklist"] --> ci{"lint · test matrix · build<br/>Trivy scan · PR docs gate"}
#     ci -- red --> pr
#     ci -- green --> review{"code owner review<br/>not the author"}
#     review --> main["merge to main<br/>(ruleset)"]
#     main --> gates["same gates again"] --> approve{"staging reviewer<br/>(quality engineer)"}
#     approve --> deploy["deploy-staging<br/>OIDC, no keys"] --> evidence["release record<br/>artefacts, 90 days"]
# ```

# %% [markdown]
# ## Setup
#
# Open this notebook from your capstone repository (it lives in `notebooks/`) with the kernel of your
# repository's `.venv`. The first cell finds the repository and reads the plant from `config/plant.yaml`.
# This notebook reads `.github/` and runs `scripts/check_pr_docs.py`; it needs no GitHub account and
# no network.

# %%
# Setup: run this cell first. It finds your capstone repository (the folder holding config/plant.yaml),
# makes its code importable and loads the plant profile: plant values always come from there.
LAB = "lab05"

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = next((p for p in (Path.cwd(), *Path.cwd().parents) if (p / "config" / "plant.yaml").is_file()), None)
if REPO is None:
    raise RuntimeError(f"no config/plant.yaml in {Path.cwd()} or above: open the notebook inside your capstone")
for entry in (str(REPO / "src"), str(REPO)):
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)

from common.config import load_plant_profile

PROFILE = load_plant_profile(REPO / "config" / "plant.yaml")
PLANT = PROFILE.plant
KEY_OUTPUTS: dict[str, str] = {}  # what this notebook established; the last cell records it
OPEN_ITEMS: list[str] = []  # what is not finished yet in your repository


def run(
    *command: str, cwd: Path | None = None, stdin: str | None = None, timeout: float = 60
) -> tuple[int | None, str]:
    """Run a tool or a repository script (from the repository root by default): (exit code, output).

    ``python`` means this notebook's interpreter. A missing tool or a timeout gives (None, why), not an error.
    """
    args = [sys.executable, *command[1:]] if command[0] == "python" else list(command)
    if shutil.which(args[0]) is None:
        return None, f"{args[0]} is not installed here (see References at the end of this notebook)"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}  # terraform: no version check calling home
    try:
        done = subprocess.run(
            args, cwd=cwd or REPO, input=stdin, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return None, f"{' '.join(args)} did not finish within {timeout:g} s"
    return done.returncode, (done.stdout + done.stderr).strip()


print(f"{PROFILE.company}: {PLANT.name} ({PLANT.code}), lines {', '.join(PLANT.production_lines)}")
print(f"capstone repository: {REPO}")

# %% [markdown]
# ## GitHub Actions workflow
#
# `.github/workflows/main.yml` (the `ci-cd` workflow) runs on every pull request into `main`, every push
# to `main` and on demand. The **`needs:` graph is what makes the gates real**: `deploy-staging` needs
# `lint`, `test`, `build` and `scan`, so any failure stops the deploy, and only the image that was
# scanned is ever pushed. Three habits keep it safe and cheap:
#
# - **Least privilege**: the workflow's token has no permissions (`permissions: {}`); each job asks for
#   what it uses (`contents: read`, `security-events: write` for SARIF, `id-token: write` for OIDC).
# - **Pinned actions**: `uses: owner/action@<40-hex commit>` with the release in a comment. A tag can be
#   moved to other code; a commit cannot. Dependabot proposes updates, reviewed like any change.
# - **Timeouts and concurrency**: a hung step costs minutes, not six hours; one run per branch.
#
# The cell reads the workflow the way GitHub does (YAML) and draws its job graph from `needs:`.

# %%
import json
import re

import yaml

workflow_file = REPO / ".github" / "workflows" / "main.yml"
WORKFLOW = yaml.safe_load(workflow_file.read_text(encoding="utf-8"))
JOBS: dict = WORKFLOW.get("jobs", {})


def needs(job: dict) -> list[str]:
    value = job.get("needs") or []
    return [value] if isinstance(value, str) else list(value)


print(f"{'job':<16} {'needs':<28} {'timeout':>7}  permissions")
for name, job in JOBS.items():
    upstream = ", ".join(needs(job)) or "-"
    print(f"{name:<16} {upstream:<28} {job.get('timeout-minutes', '-'):>7}  {job.get('permissions', '-')}")

print("\nflowchart LR")
for name, job in JOBS.items():
    for upstream in needs(job):
        print(f"    {upstream} --> {name}")

uses = [step["uses"] for job in JOBS.values() for step in job.get("steps", []) if "uses" in step]
unpinned = sorted({u for u in uses if not re.search(r"@[0-9a-f]{40}$", u) and not u.startswith("./")})
deploy_needs = set(needs(JOBS.get("deploy-staging", {})))
print(f"\n{len(uses)} action steps, unpinned: {unpinned or 'none'}")
print(f"workflow token permissions: {WORKFLOW.get('permissions', 'not set (GitHub default: broad)')}")
if unpinned:
    OPEN_ITEMS.append(f"pin these actions to a full commit SHA: {unpinned}")
if not {"lint", "test", "build", "scan"} <= deploy_needs:
    OPEN_ITEMS.append("deploy-staging must need lint, test, build and scan")
KEY_OUTPUTS["workflow"] = f"{len(JOBS)} jobs, deploy needs {sorted(deploy_needs)}, {len(unpinned)} unpinned actions"

# %% [markdown]
# ## Matrix testing
#
# The service runs on Linux, but the client tooling in `scripts/` (the PR docs gate, the rollout
# check, the smoke test) runs on the technicians' Windows laptops and the quality lab's Macs, and the
# plant's images move from Python 3.10 to 3.11. A `strategy.matrix` runs the `test` job once per
# combination, with `fail-fast: false` so one failing combination does not hide the others.
#
# GitHub expands a matrix in three steps: the **product** of every list-valued key; then every
# combination that matches all keys of an **`exclude`** entry is dropped; then each **`include`** entry
# is added to every combination it does not contradict (it may only add keys), and becomes a new
# combination of its own when it fits none.
#
# **Exercise.** Write `expand_matrix` with those rules. The next cell compares it with two cases from
# GitHub's documentation and then expands the repository's own matrix.

# %%
import itertools


def expand_matrix(matrix: dict) -> list[dict]:
    """The job combinations GitHub Actions runs for a ``strategy.matrix`` mapping."""
    # BEGIN SOLUTION lab05: product of the list keys, drop excluded combinations, then apply each include
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())] if axes else []
    combos = [
        c for c in combos
        if not any(all(c.get(k) == v for k, v in ex.items()) for ex in matrix.get("exclude", []))
    ]
    originals = [dict(c) for c in combos]
    for extra in matrix.get("include", []):
        fitting = [
            i for i, c in enumerate(originals)
            if all(c.get(k, v) == v for k, v in extra.items() if k in axes)
        ]
        if fitting:
            for i in fitting:
                combos[i].update(extra)
        else:
            combos.append(dict(extra))
    return combos
    # END SOLUTION


# %%
documented = {  # from "Expanding or adding matrix configurations" in GitHub's documentation
    "include": (
        {"fruit": ["apple", "pear"], "animal": ["cat", "dog"],
         "include": [{"color": "green"}, {"color": "pink", "animal": "cat"}, {"fruit": "apple", "shape": "circle"},
                     {"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}]},
        [{"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
         {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
         {"fruit": "pear", "animal": "cat", "color": "pink"},
         {"fruit": "pear", "animal": "dog", "color": "green"},
         {"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}],
    ),
    "exclude": (
        {"os": ["macos-latest", "windows-latest"], "version": [12, 14, 16],
         "environment": ["staging", "production"],
         "exclude": [{"os": "macos-latest", "version": 12, "environment": "production"},
                     {"os": "windows-latest", "version": 16}]},
        None,  # 12 combinations minus 1 minus 2: 9
    ),
}
try:
    results = {name: expand_matrix(matrix) for name, (matrix, _) in documented.items()}
    problems = []
    if sorted(map(json.dumps, results["include"])) != sorted(map(json.dumps, documented["include"][1])):
        problems.append(f"include example gives {results['include']}")
    if len(results["exclude"]) != 9:
        problems.append(f"exclude example gives {len(results['exclude'])} combinations, expected 9")
except NotImplementedError as exc:
    problems = [str(exc)]
if problems:
    OPEN_ITEMS.append(f"expand_matrix exercise: {problems}")
    print("not yet:", *problems, sep="\n  ")
else:
    test_job = JOBS.get("test", {})
    combos = expand_matrix(test_job.get("strategy", {}).get("matrix", {}))
    template = test_job.get("name", "test")
    CHECK_NAMES = [
        re.sub(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", lambda m, c=c: str(c.get(m.group(1), "")), template) for c in combos
    ] or ["test"]
    print(f"the test job runs {len(CHECK_NAMES)} time(s):", *CHECK_NAMES, sep="\n  ")
    versions = sorted({str(c.get("python-version")) for c in combos})
    systems = sorted({str(c.get("os")) for c in combos})
    if len(versions) < 2 or len(systems) < 2:
        OPEN_ITEMS.append("test on Python 3.10 and 3.11 and at least two operating systems")
    KEY_OUTPUTS["matrix"] = f"{len(combos)} combinations: Python {', '.join(versions)} on {', '.join(systems)}"

# %% [markdown]
# ## Branch protection and approvals
#
# In a regulated plant "protect `main`" means: no direct pushes, no force-pushes, no deletion, a linear
# and signed history, every status check green, and an approving review from a **code owner who is not
# the last person who pushed**. GitHub **rulesets** express this as JSON; keeping the ruleset in the
# repository (`.github/rulesets/main.json`) makes the protection itself reviewable and auditable, and
# `gh api` applies it (`docs/governance.md`). `.github/CODEOWNERS` decides whose review is required for
# which path: the last matching line wins.
#
# The cell lists the ruleset's rules and checks that every check the workflow produces is required,
# which is the mistake everybody makes once: a renamed job or a new matrix entry that nobody has to pass.

# %%
ruleset_file = REPO / ".github" / "rulesets" / "main.json"
if ruleset_file.is_file():
    RULESET = json.loads(ruleset_file.read_text(encoding="utf-8"))
    RULES = {rule["type"]: rule.get("parameters", {}) for rule in RULESET.get("rules", [])}
    print(f"ruleset {RULESET.get('name')!r} ({RULESET.get('enforcement')}), bypass: {RULESET.get('bypass_actors')}")
    for kind, parameters in RULES.items():
        shown = {k: v for k, v in parameters.items() if k != "required_status_checks"}
        print(f"  {kind:<26} {shown or ''}")
    required = {c["context"] for c in RULES.get("required_status_checks", {}).get("required_status_checks", [])}
    produced = {*[n for n in JOBS if n != "test"], *globals().get("CHECK_NAMES", [])} - {"deploy-staging"}
    not_required = sorted(produced - required)
    print("checks the workflow produces but the ruleset does not require:", not_required or "none")
    if not_required:
        OPEN_ITEMS.append(f"require these status checks in {ruleset_file.name}: {not_required}")
    KEY_OUTPUTS["ruleset"] = f"{len(RULES)} rules, {len(required)} required checks"
else:
    OPEN_ITEMS.append(".github/rulesets/main.json: write the main branch ruleset")
    print(".github/rulesets/main.json does not exist yet")


# %%
def owners(path: str, codeowners: str) -> list[str]:
    """The code owners of ``path``: the last matching CODEOWNERS line wins (leading-slash and * patterns)."""
    found: list[str] = []
    for line in codeowners.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *who = line.split()
        anchored = pattern.lstrip("/")
        if pattern == "*" or path == anchored or (anchored.endswith("/") and path.startswith(anchored)):
            found = who
    return found


codeowners = (REPO / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
for path in ("src/copilot/rag/generation.py", "docs/model-card.md", "terraform/main.tf", "README.md"):
    print(f"{path:<32} {' '.join(owners(path, codeowners)) or 'nobody'}")

# %% [markdown]
# ## Secrets management with GitHub OIDC
#
# The deploy job never holds a key. Because it has `permissions: id-token: write`, GitHub issues it a
# short-lived **OIDC token** describing the run (repository, branch, environment...);
# `google-github-actions/auth` exchanges it through **Workload Identity Federation** for a one-hour
# access token of the `github-deployer` service account. The provider's **attribute condition** decides
# which runs may do that. Secrets the job needs (the JWT signing key for the smoke test) come from
# **Secret Manager** at deploy time, masked in logs; the repository stores no secret at all.
#
# The cell checks the workflows for keys, then evaluates the repository's attribute condition
# (`docs/ci-cd.md`) on the claims of three runs.

# %%
workflow_texts = {p.name: p.read_text(encoding="utf-8") for p in (REPO / ".github" / "workflows").glob("*.yml")}
key_material = [n for n, text in workflow_texts.items() if re.search(r"credentials_json|_SA_KEY|private_key", text)]
deploy = JOBS.get("deploy-staging", {})
auth_steps = [s for s in deploy.get("steps", []) if "google-github-actions/auth" in s.get("uses", "")]
print(f"deploy-staging permissions: {deploy.get('permissions')}, environment: {deploy.get('environment')}")
for step in auth_steps[:1]:
    print("auth inputs:", sorted(step.get("with", {})))
print("workflows with key material:", key_material or "none")

ci_cd = REPO / "docs" / "ci-cd.md"  # where the Workload Identity Federation set-up is documented
ci_cd_text = ci_cd.read_text(encoding="utf-8") if ci_cd.is_file() else ""
condition = re.search(r'--attribute-condition "([^"]+)"', ci_cd_text)
repository = re.search(r"^REPO=(\S+)", ci_cd_text, re.M)
print("attribute condition:", condition.group(1) if condition else "not documented in docs/ci-cd.md yet")


def may_deploy(claims: dict) -> bool:
    """The attribute condition of docs/ci-cd.md, in Python: this repository, main, staging environment."""
    return (
        claims.get("repository") == (repository.group(1) if repository else None)
        and claims.get("ref") == "refs/heads/main"
        and claims.get("environment") == "staging"
    )


own = repository.group(1) if repository else "org/repo"
runs = {
    "push to main, staging job": {"repository": own, "ref": "refs/heads/main", "environment": "staging"},
    "pull request from a branch": {"repository": own, "ref": "refs/pull/42/merge"},
    "a fork's workflow": {"repository": "someone/fork", "ref": "refs/heads/main", "environment": "staging"},
}
for name, claims in runs.items():
    print(f"  {name:<28} -> {'may deploy' if may_deploy(claims) else 'refused'}")
if key_material or not auth_steps:
    OPEN_ITEMS.append("deploy with google-github-actions/auth and Workload Identity Federation, never a JSON key")
KEY_OUTPUTS["OIDC"] = f"auth steps {len(auth_steps)}, key material in workflows: {key_material or 'none'}"

# %% [markdown]
# ## Evidence collection for audits
#
# An auditor samples a release and asks: which tests ran, what did the scan find, who approved, what was
# deployed? The pipeline answers with **artefacts**, uploaded by every job that produces evidence,
# **named by commit** so they can be found from the release, and kept for a stated **retention**
# (90 days here, longer than the plant's audit cycle; the release record is also committed as a
# release note). `if-no-files-found: error` makes a missing report a failure instead of an empty artefact.
# The upload of test reports and scan results runs with `if: always()`: a step is skipped once a step
# before it failed, and the failed run is exactly the one the auditor asks about.

# %%
retention_default = WORKFLOW.get("env", {}).get("EVIDENCE_RETENTION_DAYS")
uploads = [
    (job_name, step.get("with", {}))
    for job_name, job in JOBS.items()
    for step in job.get("steps", [])
    if "actions/upload-artifact" in step.get("uses", "")
]
for job_name, inputs in uploads:
    days = str(inputs.get("retention-days", "default (90)"))
    days = days.replace("${{ env.EVIDENCE_RETENTION_DAYS }}", str(retention_default))
    print(f"{job_name:<16} {inputs.get('name', '?'):<70} {days} days")
unnamed = [inputs.get("name", "?") for _, inputs in uploads if "sha" not in str(inputs.get("name", ""))]
if not uploads or unnamed:
    OPEN_ITEMS.append(f"upload evidence named by commit (github.sha): {unnamed or 'no uploads yet'}")
KEY_OUTPUTS["evidence"] = f"{len(uploads)} artefact uploads, retention {retention_default} days"

# %% [markdown]
# ## Operational checklists
#
# ### Security
#
# - [ ] The workflow token defaults to no permissions; each job asks only for what it uses.
# - [ ] Every third-party action is pinned to a full commit SHA; Dependabot proposes updates.
# - [ ] No cloud key exists in GitHub: the deploy job uses OIDC and Workload Identity Federation with an attribute condition.
# - [ ] Trivy fails the pipeline on CRITICAL findings in the image and the IaC; SARIF goes to code scanning.
#
# ### Compliance
#
# - [ ] The ruleset requires every status check, a code owner review and the last pusher's exclusion (four-eyes principle).
# - [ ] Test reports, scan results, SBOM and the release record are uploaded as artefacts named by commit, kept 90 days.
# - [ ] Every change to model, prompt or serving code updates the model card and a runbook (the PR docs gate).
# - [ ] The change request id of the plant's change control is on every pull request.
#
# ### Change management
#
# - [ ] Deploys to staging wait for the `staging` environment's reviewer (the quality engineer).
# - [ ] A renamed job or a new matrix entry updates the ruleset's required checks in the same pull request.
# - [ ] Emergency changes follow `docs/governance.md` (documented afterwards, never by bypassing the ruleset).
# - [ ] Pipeline changes are reviewed by the platform owner (`.github/` in CODEOWNERS).

# %% [markdown]
# ## Lab: pull request checklist
#
# Pull request checklist with a docs gate: write the pull request template and a gate script that fails
# when model, prompt or serving code changes without the model card and a runbook being updated.
#
# Steps:
#
# 1. Write `.github/pull_request_template.md`: the change request id, a rollback plan and a checklist that
#    covers the model card, a runbook, tests, security, the change request id and the rollback plan. Each
#    checklist entry is a Markdown task item (`- [ ] ...` or `1. [ ] ...`), which GitHub renders as a box to tick.
# 2. Finish `scripts/check_pr_docs.py`: read the change list (plain paths or `git diff --name-status`
#    lines, renames included), decide, explain, and exit 0 (may merge), 1 (docs missing) or 2 (unreadable:
#    the gate never passes what it could not read). Guarded code is the folders of `GUARDED_PATHS`, matched
#    as path prefixes (`src/copilot/apiary.py` is not under `src/copilot/api/`); a deleted model card or
#    runbook (`D` status) is not an update; a rename touches both its paths; adding or deleting a guarded
#    file (`A`, `D`) changes guarded code as much as editing one.
# 3. Add the `pr-docs-gate` job to `.github/workflows/main.yml` on pull requests, and require it in the ruleset.
#    The job lists the changes with `git diff --name-status` (`--name-only` loses a rename's old path and
#    shows a deletion like an edit) against the pull request's base (`"${BASE_SHA}...HEAD"`, not `HEAD~1`,
#    which sees the last commit only). A `run:` step without `shell:` runs `bash -e {0}`, without pipefail:
#    `gate | tee report` would then pass whatever the gate decides, so set `shell: bash` (or `set -o pipefail`).
# 4. Grade it: `make grade LAB=lab05` at the repository root (from a cell of this notebook:
#    `!make -C .. grade LAB=lab05`).
#
# <!-- BEGIN RUBRIC -->
# <!-- generated by `capstone rubric --write` from the lab's grader: do not edit by hand -->
#
# **You deliver**
#
# | file | what |
# | --- | --- |
# | `.github/workflows/main.yml` | lint, test matrix, build, scan and gated staging deploy |
# | `.github/pull_request_template.md` | the pull request checklist requiring model card and runbook updates |
# | `scripts/check_pr_docs.py` | the gate that fails a change set touching model, prompt or serving code without docs updates |
#
# **Grading rubric**: 100 points; `make grade LAB=lab05` runs these checks and tells you, for each one that does not pass, what was expected, where, and which section of this notebook explains it.
#
# | check | points | part | notebook section |
# | --- | ---: | --- | --- |
# | Gate blocks model, prompt and serving changes without both docs | 8 | assignment | Lab: pull request checklist |
# | Gate passes guarded changes that update the model card and a runbook | 6 | assignment | Lab: pull request checklist |
# | Gate passes docs-only and unrelated changes | 5 | assignment | Lab: pull request checklist |
# | Gate reads git's name-status renames (both paths count) | 5 | assignment | Lab: pull request checklist |
# | Gate passes an empty change set and never passes one it could not read | 4 | assignment | Lab: pull request checklist |
# | The PR template's checklist covers model card, runbook, tests, security, CR id, rollback | 8 | assignment | Lab: pull request checklist |
# | A workflow job runs the PR docs gate on every pull request's changed files | 4 | assignment | Lab: pull request checklist |
# | Branch protection as code: ruleset with reviews, code owners, checks, signatures | 5 | lab | Branch protection and approvals |
# | Every workflow validates against the GitHub workflow schema | 3 | lab | GitHub Actions workflow |
# | Runs are serialised and every job has a timeout | 3 | lab | GitHub Actions workflow |
# | The job graph makes the gates real (deploy needs test, build and scan) | 7 | lab | GitHub Actions workflow |
# | Tests run on Python 3.10 and 3.11 and on at least two operating systems | 5 | lab | Matrix testing |
# | Audit evidence is uploaded as artefacts, named by commit, with a retention period | 6 | lab | Evidence collection for audits |
# | Deploy runs only from main, into the protected staging environment | 6 | lab | Branch protection and approvals |
# | Token permissions are least-privilege and granted per job | 6 | lab | Secrets management with GitHub OIDC |
# | GCP access through OIDC and Workload Identity Federation, no keys | 7 | lab | Secrets management with GitHub OIDC |
# | Third-party actions are pinned to a full commit SHA | 5 | lab | GitHub Actions workflow |
# | Trivy scans the image and the IaC, fails on CRITICAL and uploads SARIF | 7 | lab | GitHub Actions workflow |
# | **total** (40 for the assignment) | **100** | | |
# <!-- END RUBRIC -->

# %%
template = (REPO / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
checklist = re.findall(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s+(.+)$", template, re.M)  # bulleted or numbered
print(f"{len(checklist)} checklist items in the pull request template:")
for item in checklist:
    print("  [ ]", re.sub(r"\*\*|`", "", item)[:110])
topics = ["model card", "runbook", "test", "security", "change request", "rollback"]
uncovered = [t for t in topics if not any(t in item.lower() for item in checklist)]
if uncovered:
    OPEN_ITEMS.append(f".github/pull_request_template.md: the checklist does not cover {uncovered}")
KEY_OUTPUTS["PR template"] = f"{len(checklist)} checklist items, uncovered topics: {uncovered or 'none'}"

# %% [markdown]
# The gate, run exactly as the `pr-docs-gate` job runs it: the change list on standard input, one
# `git diff --name-status` line per file. Each case says what the plant's change control expects.

# %%
GATE_CASES = [
    ("prompt change without docs", "M\tsrc/copilot/rag/generation.py\n", 1),
    ("prompt change with model card and runbook",
     "M\tsrc/copilot/rag/generation.py\nM\tdocs/model-card.md\nM\tdocs/runbooks/deploy-cloud-run.md\n", 0),
    ("serving change with the model card only", "M\tsrc/copilot/api/deps.py\nM\tdocs/model-card.md\n", 1),
    ("rename out of the guarded folder", "R100\tsrc/copilot/rag/generation.py\tsrc/copilot/generation.py\n", 1),
    ("model card deleted", "M\tsrc/copilot/vision/model.py\nD\tdocs/model-card.md\nM\tdocs/runbooks/a.md\n", 1),
    ("a path that only looks guarded", "A\tsrc/copilot/apiary.py\nM\tdocs/mlops/overview.md\n", 0),
    ("documentation only", "M\tREADME.md\nA\tdocs/runbooks/new.md\n", 0),
    ("empty change set", "", 0),
    ("unreadable line", "Q\tsomething\tor\tother\n", 2),
]
gate_failures = []
for name, changes, expected in GATE_CASES:
    code, output = run("python", "scripts/check_pr_docs.py", "--changed-files", "-", stdin=changes)
    verdict = "ok " if code == expected else "WRONG"
    print(f"{verdict} exit {code} (expected {expected})  {name}: {output.splitlines()[0] if output else ''}")
    if code != expected:
        gate_failures.append(name)
if gate_failures:
    OPEN_ITEMS.append(f"scripts/check_pr_docs.py decides wrongly on: {gate_failures}")
KEY_OUTPUTS["PR docs gate"] = f"{len(GATE_CASES) - len(gate_failures)}/{len(GATE_CASES)} change sets decided correctly"

# %% [markdown]
# **Exercise.** Your next pull request changes how the RAG pipeline builds its prompt
# (`src/copilot/rag/generation.py`). Write its change set so that the gate lets it through for the right
# reasons: which documents must change with it?

# %%
# BEGIN SOLUTION lab05: the change set of a prompt change that the gate lets through
my_change_set = [
    "M\tsrc/copilot/rag/generation.py",
    "M\tdocs/model-card.md",  # what changed, evaluation before and after, limitations
    "M\tdocs/runbooks/deploy-cloud-run.md",  # how operators roll it out and back
]
# STARTER
# my_change_set = ["M\tsrc/copilot/rag/generation.py"]
# END SOLUTION
code, output = run("python", "scripts/check_pr_docs.py", "--changed-files", "-", stdin="\n".join(my_change_set) + "\n")
print(f"exit {code}\n{output}")
if code != 0:
    OPEN_ITEMS.append("exercise: write a change set for a prompt change that passes the gate")
KEY_OUTPUTS["own change set"] = "passes the gate" if code == 0 else f"gate exit {code}"

# %% [markdown]
# ## References
#
# Prior weeks:
#
# - **Weeks 05-08 (the RAG stack)**: the prompt and retrieval code under `src/copilot/rag/` is what the
#   PR docs gate guards; the evaluation set from those weeks is what a model card's "evaluation" section
#   reports before and after a change.
# - **Weeks 09-10 (tuned models)**: a new tuned model or adapter is a change to `src/copilot/vision/` or
#   `mlops/`: it needs a model card entry and a runbook update like any other.
# - Lab 01 (model registry and release records), Lab 03 (the image `build` and `scan` produce) and
#   Lab 04 (`promtool` tests that CI can run).
#
# External documentation:
#
# - Security hardening with OpenID Connect: https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
# - google-github-actions/auth: https://github.com/google-github-actions/auth
# - Running variations of jobs in a workflow (matrix): https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/running-variations-of-jobs-in-a-workflow
# - About rulesets: https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/about-rulesets
# - About code owners: https://docs.github.com/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
# - Trivy action: https://github.com/aquasecurity/trivy-action
# - Storing workflow data as artifacts: https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/storing-and-sharing-data-from-a-workflow

# %% [markdown]
# ## Record your progress
#
# The last cell writes this lab's key outputs to `capstone-progress.csv` at the root of your repository
# (one row per lab; running it again replaces the row). `make grade LAB=lab05 PROGRESS=1` adds
# your score to the same row.

# %%
# Record this lab's key outputs in capstone-progress.csv (one row per lab: re-running replaces the row).
from common.progress import record_progress

row = record_progress(
    LAB,
    [f"{name}: {value}" for name, value in KEY_OUTPUTS.items()],
    status="in-progress" if OPEN_ITEMS else "done",
)
print(f"{row.lab} is {row.status} ({row.date}): {row.outputs}")
for item in OPEN_ITEMS:
    print(f"  still open: {item}")
