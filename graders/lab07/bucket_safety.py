"""What the documents bucket does with the plant's data: deletion in production, lifecycle
deletion, name collisions between regions, and who is granted access where.

Each function returns the problems found as ``(message, location)``; an empty list is a pass.
Values are worked out for production (``environments/prod.tfvars`` over the variables' defaults),
through the module call's arguments into the module, as Terraform would; a value that cannot be
worked out here never counts as a problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graders.lab07 import resolve, tf_values
from graders.lab07.project import ASSIGNMENT_MODULE, MODULES_DIR, Block, TerraformProject

Problem = tuple[str, str]
BUCKET = "google_storage_bucket"
# Lifecycle conditions that only ever match noncurrent (archived) versions, never the live object.
NONCURRENT_ONLY = ("days_since_noncurrent_time", "num_newer_versions", "noncurrent_time_before")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
PROJECT_IAM = re.compile(r"^google_project_iam_(member|binding|policy)$")
# Roles that reach every bucket of the project when granted on the project.
BROAD_PROJECT_ROLE = re.compile(r"roles/(storage\.[A-Za-z]+|owner|editor|viewer)\b")
_VAR = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def _buckets(project: TerraformProject) -> Iterator[Block]:
    yield from project.resources(project.module(ASSIGNMENT_MODULE), BUCKET)


def _prod_variables(project: TerraformProject) -> dict[str, Any]:
    values = tf_values.variable_defaults(project.blocks(project.root, "variable"))
    prod = project.environment("prod")
    if prod is not None:
        values.update({k: v for k, v in prod.data.items() if tf_values.expression_text(v) is None})
    return values


def _module_inputs(project: TerraformProject, call: Block) -> dict[str, Any]:
    """The gcs module's variables in production: the call's arguments, else the variables' defaults."""
    root = _prod_variables(project)
    values = tf_values.variable_defaults(project.blocks(project.module(ASSIGNMENT_MODULE), "variable"))
    for name, argument in call.body.items():
        values[name] = tf_values.evaluate(argument, root)
    return values


def force_destroy_problems(project: TerraformProject) -> list[Problem]:
    """A production bucket that ``terraform destroy`` may empty: force_destroy true there."""
    problems = []
    calls: list[Block | None] = [*project.calls_of(ASSIGNMENT_MODULE)] or [None]
    for bucket in _buckets(project):
        value = bucket.body.get("force_destroy", False)
        for call in calls:
            inputs = _module_inputs(project, call) if call is not None else {}
            if tf_values.evaluate(value, inputs) is True:
                how = f"force_destroy = {value}" if call is None else f'module "{call.name}" passes force_destroy'
                problems.append(
                    (
                        f"{bucket.name}: in production (environments/prod.tfvars) {how} evaluates to true, so "
                        "`terraform destroy` or a replacement deletes the plant's documents with the bucket: "
                        "keep it false in prod (e.g. force_destroy = !var.deletion_protection)",
                        bucket.attribute_location("force_destroy")
                        if "force_destroy" in bucket.body
                        else bucket.location,
                    )
                )
                break
    return problems


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    blocks = body.get(key)
    return blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}


def lifecycle_problems(project: TerraformProject) -> list[Problem]:
    """A lifecycle rule that deletes live objects (not only noncurrent versions)."""
    problems = []
    for bucket in _buckets(project):
        rules = bucket.body.get("lifecycle_rule")
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict) or _first(rule, "action").get("type") != "Delete":
                continue
            condition = _first(rule, "condition")
            if condition.get("with_state") == "ARCHIVED":
                continue
            if any(condition.get(key) not in (None, "", 0, False) for key in NONCURRENT_ONLY):
                continue
            if tf_values.expression_text(condition.get("with_state")) is not None:
                continue  # decided by a variable: not judged here
            problems.append(
                (
                    f"{bucket.name}: a lifecycle_rule deletes objects whose condition also matches the live version "
                    f"({condition or 'no condition'}): the plant's current documents would be deleted, not only old "
                    'versions; restrict it with with_state = "ARCHIVED" or days_since_noncurrent_time',
                    bucket.attribute_location("lifecycle_rule"),
                )
            )
    return problems


def _name_variables(project: TerraformProject, bucket: Block) -> tuple[set[str], bool]:
    """The variables a bucket name is built from, and whether it uses anything else (resources, random...)."""
    folder = f"{MODULES_DIR}/{ASSIGNMENT_MODULE}"
    local_values = resolve.module_locals({p: d.data for p, d in project.documents.items()}).get(folder, {})
    name = resolve.substitute(bucket.body.get("name"), local_values)
    text = resolve.string_call(name) if isinstance(name, str) else str(name)
    references = re.findall(r"\$\{([^}]*)\}", text)
    used = set(_VAR.findall(text))
    other = any(not re.fullmatch(r"\s*var\.[A-Za-z0-9_-]+\s*", r) for r in references)
    return used, other


def region_name_problems(project: TerraformProject) -> list[Problem]:
    """Bucket names are global: the same name in every region collides (the second apply fails)."""
    problems = []
    for call in project.calls_of(ASSIGNMENT_MODULE):
        if not isinstance(call.body.get("for_each"), str):
            continue
        for bucket in _buckets(project):
            used, other = _name_variables(project, bucket)
            if other or not isinstance(bucket.body.get("name"), str):
                continue
            per_region = [v for v in used if re.search(r"\beach\.(key|value)\b", str(call.body.get(v, "")))]
            if not per_region:
                shown = ", ".join(f"{v} = {call.body.get(v, '(default)')}" for v in sorted(used)) or "a fixed name"
                problems.append(
                    (
                        f'{bucket.name}: its name is the same in every region of module "{call.name}" ({shown}); '
                        "bucket names are global, so the second region's bucket cannot be created: build the name "
                        "from the region's prefix (name_prefix = local.region_prefix[each.key], "
                        "mfgcp-<env>-<region_short>-...)",
                        call.location,
                    )
                )
    return problems


# Text about members, not a grant: descriptions, and validations that refuse public members.
NOT_GRANTS = frozenset({"description", "error_message", "validation"})


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_GRANTS:
                yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def iam_problems(project: TerraformProject) -> list[Problem]:
    """Access granted to everyone, or storage access granted on the whole project instead of the bucket."""
    problems = []
    for path, document in sorted(project.documents.items()):
        if not path.endswith((".tf", ".tfvars")):
            continue
        public = sorted({m for text in _walk(document.data) for m in PUBLIC_MEMBERS if m in text})
        if public:
            problems.append(
                (
                    f"{path} grants access to {', '.join(public)}: anyone on the internet (or any Google account) "
                    "could read the plant's documents; grant roles to the service accounts and groups that need them",
                    path,
                )
            )
    for resource in project.resources([*project.root, *project.module(ASSIGNMENT_MODULE)]):
        rtype = resource.name.split(".", 1)[0]
        if not PROJECT_IAM.match(rtype):
            continue
        granted = " ".join(_walk({k: resource.body.get(k) for k in ("role", "for_each", "binding")}))
        broad = BROAD_PROJECT_ROLE.search(granted)
        if broad:
            problems.append(
                (
                    f"{resource.name} grants {broad.group(0)} on the whole project: it reaches every bucket, the "
                    "Terraform state included; grant storage roles on the bucket "
                    "(google_storage_bucket_iam_member) instead",
                    resource.location,
                )
            )
    return problems
