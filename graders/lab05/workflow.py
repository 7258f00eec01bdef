"""A read-only model of a GitHub Actions workflow, for the structural checks of Lab 05.

Jobs are recognised by what they do (a step that runs pytest is a test job, a Trivy step a scan
job, a Cloud Run deploy a deploy job), not by their names, so a student may call them anything.
Matrices are expanded with GitHub's documented include/exclude rules, and the check-run names that
a ruleset's required status checks must match are derived the way GitHub derives them.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graders.sdk import Submission, SubmissionFileError

WORKFLOW_DIR = ".github/workflows"
MAIN_WORKFLOW = f"{WORKFLOW_DIR}/main.yml"
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")
ANY_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# Owners whose actions GitHub itself publishes; everything else is third-party.
FIRST_PARTY_OWNERS = frozenset({"actions", "github"})
# Steps that exchange the job's OIDC token for cloud credentials (the reason for `id-token: write`).
OIDC_ACTIONS = (
    "google-github-actions/auth",
    "aws-actions/configure-aws-credentials",
    "azure/login",
    "actions/attest-build-provenance",
    "actions/attest",
    "sigstore/cosign-installer",
)


@dataclass(frozen=True)
class ActionRef:
    """``owner/repo[/path]@ref`` of a ``uses:``."""

    raw: str
    owner: str
    repo: str
    ref: str

    @property
    def name(self) -> str:
        return self.raw.split("@", 1)[0]

    @property
    def first_party(self) -> bool:
        return self.owner.lower() in FIRST_PARTY_OWNERS

    @property
    def pinned(self) -> bool:
        return bool(FULL_SHA.match(self.ref))


def parse_uses(value: Any) -> ActionRef | None:
    """The action a ``uses:`` names; None for local actions (``./``) and Docker images."""
    if not isinstance(value, str) or value.startswith(("./", "docker://")) or "@" not in value:
        return None
    name, ref = value.split("@", 1)
    parts = name.split("/")
    if len(parts) < 2:
        return None
    return ActionRef(value, parts[0], parts[1], ref)


@dataclass
class Step:
    index: int
    raw: dict[str, Any]

    @property
    def uses(self) -> str:
        value = self.raw.get("uses")
        return value if isinstance(value, str) else ""

    @property
    def action(self) -> ActionRef | None:
        return parse_uses(self.raw.get("uses"))

    def uses_action(self, *names: str) -> bool:
        action = self.action
        return action is not None and any(action.name.lower() == n.lower() for n in names)

    @property
    def run(self) -> str:
        value = self.raw.get("run")
        return value if isinstance(value, str) else ""

    @property
    def with_(self) -> dict[str, Any]:
        value = self.raw.get("with")
        return value if isinstance(value, dict) else {}

    def input(self, key: str, default: Any = None) -> Any:
        return self.with_.get(key, default)

    @property
    def label(self) -> str:
        name = self.raw.get("name")
        return str(name) if name else (self.uses or self.run.strip().splitlines()[0] if self.run.strip() else "step")

    @property
    def continue_on_error(self) -> bool:
        return self.raw.get("continue-on-error") not in (None, False, "false")


@dataclass
class Job:
    id: str
    raw: dict[str, Any]
    steps: list[Step] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        value = self.raw.get("name")
        return str(value) if value is not None else None

    @property
    def needs(self) -> list[str]:
        value = self.raw.get("needs")
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [str(v) for v in value]
        return []

    @property
    def condition(self) -> Any:
        return self.raw.get("if")

    @property
    def permissions(self) -> Any:
        return self.raw.get("permissions")

    @property
    def environment(self) -> str | None:
        env = self.raw.get("environment")
        if isinstance(env, dict):
            env = env.get("name")
        return str(env) if env is not None else None

    @property
    def run_text(self) -> str:
        return "\n".join(step.run for step in self.steps)

    def steps_using(self, *names: str) -> list[Step]:
        return [s for s in self.steps if s.uses_action(*names)]

    def runs_command(self, pattern: str) -> bool:
        return re.search(pattern, self.run_text) is not None

    @property
    def matrix(self) -> Any:
        strategy = self.raw.get("strategy")
        return strategy.get("matrix") if isinstance(strategy, dict) else None


@dataclass
class Workflow:
    path: str
    raw: dict[str, Any]
    jobs: dict[str, Job]

    @property
    def triggers(self) -> dict[str, Any]:
        """``on:`` as a mapping of event -> configuration (PyYAML reads the bare key ``on`` as True)."""
        raw: dict[Any, Any] = self.raw
        value = raw.get("on", raw.get(True))
        if isinstance(value, str):
            return {value: None}
        if isinstance(value, list):
            return {str(v): None for v in value}
        return dict(value) if isinstance(value, dict) else {}

    @property
    def permissions(self) -> Any:
        return self.raw.get("permissions")

    def job_line(self, submission: Submission, job_id: str, *keys: str | int) -> str:
        line = submission.yaml_line(self.path, ["jobs", job_id, *keys])
        return f"{self.path}:{line}" if line else self.path

    def ancestors(self, job_id: str) -> set[str]:
        """Every job that must finish before ``job_id`` starts (``needs``, transitively)."""
        seen: set[str] = set()
        stack = list(self.jobs[job_id].needs) if job_id in self.jobs else []
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in self.jobs:
                stack.extend(self.jobs[current].needs)
        return seen

    def jobs_where(self, predicate: Any) -> list[Job]:
        return [job for job in self.jobs.values() if predicate(job)]


def load(submission: Submission, path: str) -> Workflow:
    """Parse one workflow file; a file that is not a workflow mapping with jobs is a SubmissionFileError."""
    data = submission.load_yaml(path)
    if not isinstance(data, dict):
        raise SubmissionFileError(f"{path} must be a YAML mapping with 'on' and 'jobs' (it is {type(data).__name__})",
                                  path)
    jobs_raw = data.get("jobs")
    if not isinstance(jobs_raw, dict) or not jobs_raw:
        raise SubmissionFileError(f"{path} has no 'jobs' mapping: define the pipeline's jobs under 'jobs:'", path)
    jobs = {}
    for job_id, raw in jobs_raw.items():
        raw = raw if isinstance(raw, dict) else {}
        steps_raw = raw.get("steps")
        listed = steps_raw if isinstance(steps_raw, list) else []
        steps = [Step(i, s) for i, s in enumerate(listed) if isinstance(s, dict)]
        jobs[str(job_id)] = Job(str(job_id), raw, steps)
    return Workflow(path, data, jobs)


def workflow_files(submission: Submission) -> list[str]:
    return sorted(p for p in submission.glob(f"{WORKFLOW_DIR}/*", under=WORKFLOW_DIR) if p.endswith((".yml", ".yaml")))


# -- what a job does ------------------------------------------------------------------------------
LINT = r"\b(ruff|flake8|pylint|black\s+--check|mypy)\b"
TEST = r"\bpytest\b|\bpython[0-9.]*\s+-m\s+pytest\b|\btox\b|\bnox\b"
BUILD_RUN = r"\b(docker|podman|buildah)\s+(buildx\s+)?build\b|\bgcloud\s+builds\s+submit\b"
DEPLOY_RUN = (
    r"\bgcloud\s+run\s+(deploy|services\s+(replace|update))\b|deploy\.sh\b|\bkubectl\s+apply\b|\bhelm\s+upgrade\b"
)
TRIVY_ACTION = "aquasecurity/trivy-action"


def is_lint(job: Job) -> bool:
    return job.runs_command(LINT) or any("ruff" in s.uses or "lint" in s.uses for s in job.steps)


def is_test(job: Job) -> bool:
    return job.runs_command(TEST)


def is_build(job: Job) -> bool:
    return bool(job.steps_using("docker/build-push-action")) or job.runs_command(BUILD_RUN)


def is_scan(job: Job) -> bool:
    return bool(trivy_scans(job))


def is_deploy(job: Job) -> bool:
    return bool(job.steps_using("google-github-actions/deploy-cloudrun")) or job.runs_command(DEPLOY_RUN)


# -- Trivy -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrivyScan:
    """One Trivy invocation, from the action's inputs or a ``trivy`` command line."""

    job: str
    step: Step
    kind: str  # "image" or "iac" (or "other": fs/repo without misconfiguration scanning)
    severity: str
    exit_code: str
    fmt: str
    output: str
    limit_sarif: bool

    @property
    def fails_on_critical(self) -> bool:
        severities = {s.strip().upper() for s in self.severity.split(",") if s.strip()}
        try:
            exits = int(float(self.exit_code)) != 0
        except ValueError:
            exits = False
        return exits and "CRITICAL" in severities and not self.step.continue_on_error


def _scan_kind(scan_type: str, scanners: str) -> str:
    scan_type = scan_type.lower()
    if scan_type in ("image", ""):
        return "image"
    if scan_type == "config" or (scan_type in ("fs", "filesystem", "repo", "repository") and "misconfig" in scanners):
        return "iac"
    return "other"


def trivy_scans(job: Job) -> list[TrivyScan]:
    scans = []
    all_severities = "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"
    for step in job.steps:
        if step.uses_action(TRIVY_ACTION):
            get = step.input
            scans.append(
                TrivyScan(
                    job.id,
                    step,
                    _scan_kind(str(get("scan-type", "image")), str(get("scanners", ""))),
                    str(get("severity", all_severities)),
                    str(get("exit-code", "0")),
                    str(get("format", "table")),
                    str(get("output", "")),
                    str(get("limit-severities-for-sarif", "false")).lower() == "true",
                )
            )
        for line in _command_lines(step.run):
            scan = _trivy_command(job.id, step, line)
            if scan is not None:
                scans.append(scan)
    return scans


def _command_lines(script: str) -> Iterator[str]:
    """Shell commands of a ``run:`` script with backslash continuations joined."""
    yield from (line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip())


def _trivy_command(job: str, step: Step, line: str) -> TrivyScan | None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    if "trivy" not in words:
        return None
    words = words[words.index("trivy") + 1 :]
    if not words:
        return None
    sub = words[0]
    options: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            key, _, value = word[2:].partition("=")
            if not value and i + 1 < len(words) and not words[i + 1].startswith("-"):
                value = words[i + 1]
            options[key] = value
    kind = _scan_kind({"image": "image", "config": "config"}.get(sub, sub), options.get("scanners", ""))
    return TrivyScan(
        job,
        step,
        kind,
        options.get("severity", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"),
        options.get("exit-code", "0"),
        options.get("format", "table"),
        options.get("output", ""),
        False,
    )


# -- matrices and check names --------------------------------------------------------------------
def expand_matrix(matrix: Any) -> list[dict[str, Any]] | None:
    """The job's matrix combinations per GitHub's include/exclude rules; None when it is an expression."""
    if not isinstance(matrix, dict):
        return None if matrix is not None else [{}]
    base = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    if any(not isinstance(v, list) for v in base.values()):
        return None
    keys = list(base)
    products = itertools.product(*base.values()) if keys else iter(())
    combos: list[dict[str, Any]] = [dict(zip(keys, values, strict=True)) for values in products]
    for exclusion in matrix.get("exclude") or []:
        if isinstance(exclusion, dict):
            combos = [c for c in combos if not all(c.get(k) == v for k, v in exclusion.items())]
    for inclusion in matrix.get("include") or []:
        if not isinstance(inclusion, dict):
            continue
        matched = False
        for combo in combos:
            if all(combo.get(k) == v for k, v in inclusion.items() if k in base):
                combo.update({k: v for k, v in inclusion.items() if k not in base})
                matched = True
        if not matched:
            combos.append(dict(inclusion))
    return combos or [{}]


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_names(job: Job) -> list[str]:
    """The check-run names GitHub shows for a job (one per matrix combination); ``*`` where unknowable."""
    combos = expand_matrix(job.matrix)
    if combos is None:
        return [f"{job.name or job.id}*"]
    names = []
    for combo in combos:
        if job.name is not None:
            name = MATRIX_REF.sub(lambda m, c=combo: _display(c.get(m.group(1), "")), job.name)  # type: ignore[misc]
            names.append(ANY_EXPRESSION.sub("*", name))
        elif combo:
            names.append(f"{job.id} ({', '.join(_display(v) for v in combo.values())})")
        else:
            names.append(job.id)
    return names


def permission_scopes(value: Any) -> dict[str, str] | str | None:
    """``permissions:`` as a scope -> level mapping, or the shorthand string (``read-all``, ``write-all``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return None


def write_scopes(value: Any) -> set[str]:
    """The scopes a ``permissions:`` value grants write access to (``*`` for write-all)."""
    scopes = permission_scopes(value)
    if isinstance(scopes, str):
        return {"*"} if scopes == "write-all" else set()
    return {k for k, v in (scopes or {}).items() if v == "write"}
