"""Lab 07 checks of the Terraform project's shape: formatting, syntax, modules, variables,
outputs, provider pins, the state backend and the multi-region wiring."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from graders.lab07 import sections
from graders.lab07.project import (
    ASSIGNMENT_MODULE,
    ENVIRONMENTS,
    ENVIRONMENTS_DIR,
    MODULES,
    MODULES_DIR,
    TERRAFORM_DIR,
    TerraformProject,
    require_assignment,
)
from graders.sdk import Checklist, Submission, check, fail, find_tool, partial, run_tool

ROOT_FILES = ("versions.tf", "providers.tf", "backend.tf", "main.tf", "variables.tf", "outputs.tf")
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "README.md")
SECTION_STRUCTURE = sections.STRUCTURE
SECTION_MODULES = sections.MODULES
SECTION_STATE = sections.STATE
META_ARGUMENTS = frozenset({"source", "version", "for_each", "count", "depends_on", "providers"})


def _listed(items: list[str], limit: int = 6) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


@check(points=3, name="Terraform files are formatted (terraform fmt)", section=SECTION_STRUCTURE)
def test_terraform_fmt(project: TerraformProject) -> None:
    if not project.texts:
        fail(f"{TERRAFORM_DIR}/ has no Terraform files: the lab's configuration lives there", TERRAFORM_DIR)
    terraform = find_tool("terraform")
    if not terraform:
        problems = []
        for path, text in sorted(project.texts.items()):
            for number, line in enumerate(text.splitlines(), start=1):
                indent = line[: len(line) - len(line.lstrip())]
                if "\t" in indent or line != line.rstrip() or len(indent) % 2:
                    problems.append(f"{path}:{number}")
                    break
        if problems:
            fail(
                f"Indentation or trailing whitespace differs from `terraform fmt` in {_listed(problems)}; run "
                "`terraform fmt -recursive terraform`",
                problems[0],
            )
        require_assignment(project)
        partial(
            1.0,
            "`terraform` is not installed where the grader runs: only indentation and trailing whitespace "
            "were checked, not alignment; run `terraform fmt -recursive terraform` yourself",
        )
        return
    with tempfile.TemporaryDirectory(prefix="capstone-fmt-") as scratch:
        # Only the files read through the submission (size-capped, no links out of the repository).
        for path, text in project.texts.items():
            target = Path(scratch) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        result = run_tool(
            [terraform, "fmt", "-check", "-recursive", "-list=true", "-no-color"],
            cwd=Path(scratch) / TERRAFORM_DIR,
            timeout=60,
        )
    if result.returncode not in (0, 3):
        fail(f"`terraform fmt -check` could not read the configuration: {result.tail(5)}", TERRAFORM_DIR)
    unformatted = [f"{TERRAFORM_DIR}/{line.strip()}" for line in result.stdout.splitlines() if line.strip()]
    if unformatted:
        fail(
            f"Not formatted as `terraform fmt` writes it: {_listed(unformatted)}. Run "
            "`terraform fmt -recursive terraform` and commit the result",
            unformatted[0],
        )
    require_assignment(project)


@check(points=3, name="Every Terraform file parses", section=SECTION_STRUCTURE)
def test_hcl_parses(project: TerraformProject) -> None:
    problems = [str(e) for e in project.errors] + [str(e) for e in project.unreadable]
    if problems:
        first = project.errors[0].location if project.errors else None
        fail(f"{len(problems)} file(s) are not valid HCL: {_listed(problems, 4)}", first)
    if not project.root:
        fail(f"No .tf files in {TERRAFORM_DIR}/: the root configuration is missing", TERRAFORM_DIR)
    require_assignment(project)


@check(
    points=8,
    name="The gcs module and the project have the expected structure",
    section=SECTION_MODULES,
    assignment=True,
)
def test_module_structure(submission: Submission, project: TerraformProject, checklist: Checklist) -> None:
    module_dir = f"{MODULES_DIR}/{ASSIGNMENT_MODULE}"
    if not project.module(ASSIGNMENT_MODULE) and not any(e.path.startswith(module_dir + "/") for e in project.errors):
        fail(
            f"{module_dir} has no .tf files yet: write the module (versions.tf, variables.tf, main.tf, outputs.tf "
            "and a README.md that documents it)",
            module_dir,
        )
    for name in MODULE_FILES:
        if not submission.is_file(f"{module_dir}/{name}"):
            checklist.deduct(0.25, f"{module_dir}/{name} is missing", f"{module_dir}/{name}")
    buckets = list(project.resources(project.module(ASSIGNMENT_MODULE), "google_storage_bucket"))
    checklist.require(buckets, f"{module_dir} declares no google_storage_bucket resource", module_dir, weight=4)
    module_tf = project.module(ASSIGNMENT_MODULE)
    declares_providers = any(body.get("required_providers") for body, _ in project.terraform_blocks(module_tf))
    checklist.require(
        declares_providers,
        f"{module_dir} has no terraform {{ required_providers {{ ... }} }} block "
        "(usually versions.tf) naming the google provider it uses",
        module_dir,
    )
    for folder in project.module_folders():
        for doc in project.module(folder):
            if doc.data.get("provider"):
                checklist.require(
                    False,
                    f"{doc.path} configures a provider: a reusable module must take the provider from its caller",
                    doc.location("provider"),
                )
            for body, _ in project.terraform_blocks([doc]):
                if body.get("backend"):
                    checklist.require(
                        False,
                        f"{doc.path} declares a backend: only the root module has state",
                        doc.location("terraform", "backend"),
                    )
    missing_root = [f"{TERRAFORM_DIR}/{n}" for n in ROOT_FILES if not submission.is_file(f"{TERRAFORM_DIR}/{n}")]
    checklist.require(not missing_root, f"Root files missing: {', '.join(missing_root)}", TERRAFORM_DIR)
    missing_env = [f"{ENVIRONMENTS_DIR}/{e}.tfvars" for e in ENVIRONMENTS if project.environment(e) is None]
    checklist.require(not missing_env, f"Environment variables missing: {', '.join(missing_env)}", ENVIRONMENTS_DIR)
    other = [
        f"{MODULES_DIR}/{m}/{f}"
        for m in MODULES
        if m != ASSIGNMENT_MODULE
        for f in MODULE_FILES
        if not submission.is_file(f"{MODULES_DIR}/{m}/{f}")
    ]
    checklist.require(not other, f"Module files missing: {_listed(other)}", MODULES_DIR)


@check(
    points=8,
    name="Variables have types and descriptions; the gcs module validates its inputs",
    section=SECTION_MODULES,
    assignment=True,
)
def test_variables_typed(project: TerraformProject, checklist: Checklist) -> None:
    module_vars = list(project.blocks(project.module(ASSIGNMENT_MODULE), "variable"))
    if not module_vars:
        fail(
            f"{MODULES_DIR}/{ASSIGNMENT_MODULE} declares no variables: give the module typed, described inputs "
            "(name prefix, location, KMS key, labels)",
            f"{MODULES_DIR}/{ASSIGNMENT_MODULE}",
        )
    all_docs = [doc for path, doc in project.documents.items() if path.endswith(".tf")]
    for block in project.blocks(all_docs, "variable"):  # each gap costs a fifth of the check
        if "type" not in block.body:
            checklist.deduct(0.2, f'variable "{block.name}" has no type', block.location)
        description = block.body.get("description")
        if not (isinstance(description, str) and description.strip()):
            checklist.deduct(0.2, f'variable "{block.name}" has no description', block.location)
    labels = next((b for b in module_vars if b.name == "labels"), None)
    checklist.require(
        labels is not None and str(labels.body.get("type", "")).replace(" ", "") == "map(string)",
        f"{MODULES_DIR}/{ASSIGNMENT_MODULE} needs a `labels` variable of type map(string) for the "
        "cost-allocation labels",
        labels.location if labels else None,
        weight=2,
    )
    checklist.require(
        any(b.body.get("validation") for b in module_vars),
        f"No variable of {MODULES_DIR}/{ASSIGNMENT_MODULE} has a validation block (e.g. required label "
        "keys, the name prefix pattern)",
        f"{MODULES_DIR}/{ASSIGNMENT_MODULE}",
        weight=2,
    )
    root_vars = list(project.blocks(project.root, "variable"))
    checklist.require(
        any(b.body.get("validation") for b in root_vars),
        f"No root variable in {TERRAFORM_DIR}/variables.tf has a validation block",
        TERRAFORM_DIR,
    )


@check(
    points=4, name="Outputs are described; the gcs module exposes its bucket", section=SECTION_MODULES, assignment=True
)
def test_outputs_described(project: TerraformProject, checklist: Checklist) -> None:
    module_outputs = list(project.blocks(project.module(ASSIGNMENT_MODULE), "output"))
    if not module_outputs:
        fail(
            f"{MODULES_DIR}/{ASSIGNMENT_MODULE} declares no outputs: expose at least the bucket name",
            f"{MODULES_DIR}/{ASSIGNMENT_MODULE}",
        )
    all_docs = [doc for path, doc in project.documents.items() if path.endswith(".tf")]
    for block in project.blocks(all_docs, "output"):  # each gap costs a fifth of the check
        description = block.body.get("description")
        if not (isinstance(description, str) and description.strip()):
            checklist.deduct(0.2, f'output "{block.name}" has no description', block.location)
    uses_bucket = any("google_storage_bucket." in str(b.body.get("value", "")) for b in module_outputs)
    checklist.require(
        uses_bucket,
        f"No output of {MODULES_DIR}/{ASSIGNMENT_MODULE} returns an attribute of its "
        "google_storage_bucket (e.g. its name)",
        f"{MODULES_DIR}/{ASSIGNMENT_MODULE}",
    )
    root_uses = any(
        f"module.{call.name}" in str(b.body.get("value", ""))
        for call in project.calls_of(ASSIGNMENT_MODULE)
        for b in project.blocks(project.root, "output")
    )
    checklist.require(
        root_uses,
        f"No root output in {TERRAFORM_DIR}/outputs.tf returns the buckets of the {ASSIGNMENT_MODULE} module",
        f"{TERRAFORM_DIR}/outputs.tf",
    )


_UPPER_BOUND = re.compile(r"^\s*(~>|<|=|v?[0-9])")


def _bounded(constraint: Any) -> bool:
    parts = [p for p in str(constraint or "").split(",") if p.strip()]
    return any(_UPPER_BOUND.match(p) and not p.strip().startswith("!=") for p in parts)


def _required_providers(body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in body.get("required_providers") or []:
        if isinstance(block, dict):
            found.update(block)
    return found


@check(points=4, name="Terraform and provider versions are pinned", section=SECTION_STRUCTURE)
def test_providers_pinned(project: TerraformProject, checklist: Checklist) -> None:
    """Root pins with an upper bound (half the check each); modules state source and minimum (a quarter each)."""
    root_blocks = list(project.terraform_blocks(project.root))
    versions = [(b.get("required_version"), doc) for b, doc in root_blocks if b.get("required_version")]
    if not versions:
        checklist.deduct(
            0.5, f"No required_version in the root module (e.g. {TERRAFORM_DIR}/versions.tf)", f"{TERRAFORM_DIR}"
        )
    for constraint, doc in versions:
        if not _bounded(constraint):
            checklist.deduct(
                0.5,
                f'required_version = "{constraint}" has no upper bound: use ">= 1.9.0, < 2.0.0" or "~> 1.9"',
                doc.location("terraform", "required_version"),
            )
    root_providers = {}
    for body, doc in root_blocks:
        for name, spec in _required_providers(body).items():
            root_providers[name] = (spec, doc)
    if not root_providers:
        checklist.deduct(1.0, "The root module has no required_providers block", f"{TERRAFORM_DIR}/versions.tf")
    for name, (spec, doc) in root_providers.items():
        where = doc.location("terraform", "required_providers")
        if not isinstance(spec, dict):
            checklist.deduct(
                0.5,
                f"required_providers.{name} uses the legacy string form: write "
                f'{name} = {{ source = "hashicorp/{name}", version = "~> X.Y" }}',
                where,
            )
            continue
        if not spec.get("source"):
            checklist.deduct(0.5, f"required_providers.{name} has no source (e.g. hashicorp/{name})", where)
        if not _bounded(spec.get("version")):
            checklist.deduct(
                0.5,
                f'required_providers.{name}.version = "{spec.get("version")}" is not pinned: bound it ("~> 6.14") '
                "so a new major version is an explicit upgrade",
                where,
            )
    for folder in project.module_folders():
        specs = {
            n: s
            for body, _ in project.terraform_blocks(project.module(folder))
            for n, s in _required_providers(body).items()
        }
        if not specs:
            checklist.deduct(
                0.25,
                f"{MODULES_DIR}/{folder} does not declare required_providers (source and minimum version of the "
                "providers it uses)",
                f"{MODULES_DIR}/{folder}",
            )
        for name, spec in specs.items():
            if not (isinstance(spec, dict) and spec.get("source") and spec.get("version")):
                checklist.deduct(
                    0.25,
                    f"{MODULES_DIR}/{folder}: required_providers.{name} needs a source and a minimum version",
                    f"{MODULES_DIR}/{folder}",
                )
    for doc in (doc for path, doc in project.documents.items() if path.endswith(".tf")):
        for name, configs in (doc.data.get("provider") or {}).items():
            if any(isinstance(c, dict) and "version" in c for c in configs):
                checklist.deduct(
                    0.25,
                    f'provider "{name}" sets version inside the provider block (deprecated): pin it in '
                    "required_providers",
                    doc.location("provider", name),
                )
    if checklist.fraction == 1.0:
        require_assignment(project)


@check(points=5, name="State lives in a GCS backend with a prefix per environment", section=SECTION_STATE)
def test_gcs_backend(project: TerraformProject, checklist: Checklist) -> None:
    backends = [
        (body.get("backend"), doc) for body, doc in project.terraform_blocks(project.root) if body.get("backend")
    ]
    if not backends:
        fail(
            f'No backend block in the root module: add terraform {{ backend "gcs" {{ bucket = ... }} }} '
            f"(e.g. {TERRAFORM_DIR}/backend.tf) so state is shared and locked",
            f"{TERRAFORM_DIR}/backend.tf",
        )
    backend, doc = backends[0]
    where = doc.location("terraform", "backend")
    checklist.require(len(backends) == 1, "More than one backend block in the root module", where)
    kinds = list(backend) if isinstance(backend, dict) else []
    if kinds != ["gcs"]:
        fail(f"The backend is {', '.join(kinds) or 'unreadable'}, not gcs: keep state in a GCS bucket", where)
    settings = backend["gcs"][0] if isinstance(backend, dict) and backend["gcs"] else {}
    bucket = settings.get("bucket")
    checklist.require(
        isinstance(bucket, str) and bucket and "${" not in bucket,
        'backend "gcs" needs a literal bucket (backends cannot use variables)',
        where,
    )
    secrets = [k for k in ("credentials", "access_token", "encryption_key") if k in settings]
    checklist.require(
        not secrets,
        f'backend "gcs" sets {", ".join(secrets)}: credentials never go into code; use '
        "application-default credentials or OIDC",
        where,
    )
    prefixes = {}
    for path, other in project.documents.items():
        if path.startswith(ENVIRONMENTS_DIR + "/") and path.endswith(".tfbackend"):
            prefixes[path] = other.data.get("prefix")
    if settings.get("prefix") and not prefixes:
        pass  # one prefix, environments as workspaces: the GCS backend stores <prefix>/<workspace>.tfstate
    else:
        for env in ENVIRONMENTS:
            match = [p for p in prefixes if p.rsplit("/", 1)[-1].split(".")[0] == env]
            checklist.require(
                match and prefixes[match[0]],
                f"No {ENVIRONMENTS_DIR}/{env}.gcs.tfbackend with a prefix "
                f"for `terraform init -backend-config=...` (or use workspaces with one prefix)",
                ENVIRONMENTS_DIR,
            )
        values = [v for v in prefixes.values() if v]
        checklist.require(
            len(values) == len(set(values)),
            "Two environments share a state prefix: each needs its own",
            ENVIRONMENTS_DIR,
        )
    if checklist.fraction == 1.0:
        require_assignment(project)


def _over_regions(for_each: Any) -> bool:
    return isinstance(for_each, str) and ("var.regions" in for_each or "local.regions" in for_each)


def _key_argument(arguments: dict[str, Any]) -> str | None:
    """The module argument that passes the CMEK key: named for it (kms, cmek...), else given a KMS key."""
    named = [k for k in arguments if re.search(r"kms|cmek|crypto", k, re.I)]
    given = [
        k
        for k, v in arguments.items()
        if k not in META_ARGUMENTS and re.search(r"google_kms_crypto_key|cryptoKeys/", str(v))
    ]
    found = named or given
    return found[0] if found else None


def _source(value: Any) -> str:
    """An argument as it reads in the .tf file (hcl2json writes expressions as ``${...}``)."""
    text = str(value)
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return text[2:-1]
    return f'"{text}"' if isinstance(value, str) else text


def _per_region(value: Any) -> bool:
    """An argument of a for_each module call that differs per instance: it uses each.key or each.value."""
    return isinstance(value, str) and bool(re.search(r"\beach\.(key|value)\b", value))


@check(
    points=8,
    name="The gcs module is called once per region with labels and a CMEK key",
    section=SECTION_MODULES,
    assignment=True,
)
def test_regions_wired(project: TerraformProject, plant_profile: dict[str, Any], checklist: Checklist) -> None:
    calls = project.calls_of(ASSIGNMENT_MODULE)
    if not calls:
        fail(
            f"{TERRAFORM_DIR}/main.tf does not call ./modules/{ASSIGNMENT_MODULE}: add "
            f'module "{ASSIGNMENT_MODULE}" {{ source = "./modules/{ASSIGNMENT_MODULE}" ... }}',
            f"{TERRAFORM_DIR}/main.tf",
        )
    call = calls[0]
    checklist.require(
        _over_regions(call.body.get("for_each")),
        f'module "{call.name}" is not instantiated per region: set for_each = var.regions',
        call.location,
        weight=6,
    )
    checklist.require(
        "labels" in call.body, f'module "{call.name}" does not pass labels (local.labels)', call.location, weight=2
    )
    kms_argument = _key_argument(call.body)
    checklist.require(
        kms_argument is not None,
        f'module "{call.name}" does not pass a KMS key (CMEK)',
        call.location,
        weight=2,
    )
    if kms_argument is not None:
        checklist.require(
            _per_region(call.body[kms_argument]),
            f'module "{call.name}": {kms_argument} = {_source(call.body[kms_argument])} is the same key for every '
            "region; Cloud Storage only accepts a key from the bucket's own location, so pass the region's key "
            "(e.g. google_kms_crypto_key.cmek[each.key].id)",
            call.attribute_location(kms_argument),
            weight=2,
        )
    location_argument = next((key for key in ("location", "region") if key in call.body), None)
    checklist.require(
        location_argument is not None and _per_region(call.body[location_argument]),
        f'module "{call.name}": '
        + (
            f"{location_argument} = {_source(call.body[location_argument])} puts every region's bucket in one place; "
            if location_argument
            else "no location is passed; "
        )
        + "pass the region of each instance (location = each.value) so each plant's data stays in its region",
        call.attribute_location(location_argument) if location_argument else call.location,
        weight=2,
    )
    for other in MODULES:
        for other_call in project.calls_of(other):
            checklist.require(
                _over_regions(other_call.body.get("for_each")),
                f'module "{other_call.name}" is not instantiated per region (for_each = var.regions)',
                other_call.location,
            )
    gcp = plant_profile.get("gcp")
    gcp = gcp if isinstance(gcp, dict) else {}
    expected = {str(r) for r in (gcp.get("primary_region"), gcp.get("secondary_region")) if r}
    for env in ENVIRONMENTS:
        doc = project.environment(env)
        regions = doc.data.get("regions") if doc else None
        where = doc.location("regions") if doc else f"{ENVIRONMENTS_DIR}/{env}.tfvars"
        ok = isinstance(regions, dict) and len(regions) >= 2
        checklist.require(ok, f"{ENVIRONMENTS_DIR}/{env}.tfvars must map at least two regions (EMEA and APAC)", where)
        if isinstance(regions, dict) and ok and expected:
            missing = expected - set(map(str, regions.values()))
            checklist.require(
                not missing,
                f"{ENVIRONMENTS_DIR}/{env}.tfvars does not provision {', '.join(sorted(missing))} "
                "from config/plant.yaml",
                where,
            )
