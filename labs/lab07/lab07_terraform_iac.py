# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 07 · Terraform infrastructure as code
#
# Week 11-12 · Production deployment and capstone. Lab 07 of 8.

# %% [markdown]
# ## Learning objectives and business impact
#
# After this notebook you can:
#
# - Structure a Terraform project with providers, versions, backend, variables and outputs
# - Write reusable modules for Cloud Run, Pub/Sub, Cloud SQL and Cloud Storage
# - Keep state in a GCS backend per environment
# - Enforce naming and cost-allocation labels with Rego policies and detect drift in CI
#
# **Business impact.** Meridian runs the Copilot for plants in EMEA and APAC. Infrastructure written as
# code is reviewed like code, rebuilt identically in a second region when the first one fails, and
# costed before anyone clicks "create". Policies turn the group's rules (names, cost-allocation labels,
# encryption keys) into checks that run on every pull request, so the monthly bill splits by plant and
# team without a spreadsheet, and an auditor can see that production cannot be deleted by accident.

# %% [markdown]
# ## Factory narrative
#
# **Riverbend Stamping Plant (RVB01)**, the EMEA site of **Meridian Industrial Group**, is the first
# plant on the Copilot; the group's APAC plants follow next year. Until now the cloud resources were
# created by hand in the console: nobody knows why one bucket is public, two databases have no labels,
# and the staging database was deleted last month by a cleanup script that also matched production.
#
# - **Aiko Tanaka (platform engineer)** wants every resource in Terraform, one module per kind of
#   resource, the same code for staging and production, and a morning report when reality drifts.
# - **Helena Brandt (plant manager)** wants to know what the Copilot costs per month *before* it is
#   built, and per plant afterwards (cost-allocation labels).
# - **Marco Bianchi (IT/OT security officer)** wants customer-managed keys (CMEK), no public buckets or
#   databases, and the plant's data in its own region.
# - **Priya Nair (quality engineer)** wants production changes reviewed and planned before they are
#   applied, with the plan kept as evidence.
# - **Jordan Rivera (MLOps engineer)**, you, write the storage module, wire it into both regions and
#   commit the cost estimate.
#
# **Constraints.**
#
# - *EU data residency*: the plant's documents and records stay in the EMEA region (europe-west4);
#   the APAC region (asia-southeast1) holds APAC data and the disaster-recovery copies.
# - *ISO 9001 audits*: every change goes through a pull request with a plan; state history is versioned.
# - *GPU scarcity*: no GPU in Cloud Run for this plant (the edge hosts have them), so the cost model
#   prices CPU and memory; GPU quota is requested per region, never assumed.
# - *Intermittent connectivity at the edge*: nothing here runs at the plant; the edge keeps working on
#   its local stack while the cloud is changed.
#
# ```mermaid
# flowchart TB
#     subgraph root["terraform/ (root module, one state per environment)"]
#         main["main.tf: module calls for_each region"] --> gcs["modules/gcs"]
#         main --> pubsub["modules/pubsub"]
#         main --> sql["modules/cloud_sql"]
#         main --> run["modules/cloud_run"]
#         kms["kms.tf: one CMEK key per region"] -.-> gcs & pubsub & sql
#     end
#     vars["environments/staging.tfvars, prod.tfvars"] --> root
#     root --> state[("GCS backend<br/>prefix mfgcp/&lt;env&gt;")]
#     policy["policy/*.rego<br/>(conftest)"] -->|deny| root
# ```

# %% [markdown]
# ## Setup
#
# Open this notebook from your capstone repository (it lives in `notebooks/`) with the kernel of your
# repository's `.venv` (`pip install -e '.[dev,notebooks]'` adds the HCL parser and the Rego engine this
# notebook uses). The first cell finds the repository and reads the plant from `config/plant.yaml`.
# `terraform init` and `terraform plan` need provider downloads and a cloud account, so this notebook
# works on the configuration itself: it parses it, evaluates the policies and prices it, offline.

# %%
# Setup: run this cell first. It finds your capstone repository (the folder holding config/plant.yaml),
# makes its code importable and loads the plant profile: plant values always come from there.
LAB = "lab07"

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
# ## Terraform project structure
#
# A root module that anyone on the platform team can read in five minutes:
#
# | file | holds |
# | --- | --- |
# | `versions.tf` | `required_version` and `required_providers`, pinned with an upper bound |
# | `providers.tf` | the `google` provider, configured from variables (project, default region, labels) |
# | `backend.tf` | where the state lives (next section) |
# | `variables.tf` | every input, typed, described, validated where a wrong value is expensive |
# | `main.tf`, `network.tf`, `kms.tf`, `iam.tf`, `secrets.tf` | resources and module calls, grouped by concern |
# | `outputs.tf` | what other configurations and people need (URLs, bucket names), described |
# | `environments/<env>.tfvars` | the values of one environment: the only difference between staging and production |
#
# `terraform fmt` is the formatting standard; CI fails on any difference.

# %%
import importlib.util
import re

import yaml

if importlib.util.find_spec("hcl2") is None:
    raise ModuleNotFoundError("this notebook parses HCL: run pip install -e '.[dev,notebooks]' in your repository")
sys.path.insert(0, str(REPO / "scripts"))
import estimate_cost  # the repository's cost script; its HCL helpers read python-hcl2 and checkov's parser

TERRAFORM = REPO / "terraform"
for tf in sorted(TERRAFORM.glob("*.tf")):
    blocks = estimate_cost._load_hcl(tf)
    kinds = {kind: len(entries) for kind, entries in blocks.items() if isinstance(entries, list)}
    print(f"{tf.name:<14} {kinds}")

versions = (TERRAFORM / "versions.tf").read_text(encoding="utf-8")
print("\nrequired_version:", re.search(r'required_version\s*=\s*"([^"]+)"', versions).group(1))
print("google provider: ", re.search(r'version\s*=\s*"([^"]+)"', versions.split("google", 1)[1]).group(1))

code, output = run("terraform", "fmt", "-check", "-recursive", "-diff", "terraform")
print("\nterraform fmt -check:", {None: output, 0: "formatted"}.get(code, f"needs formatting\n{output}"))
if code not in (0, None):
    OPEN_ITEMS.append("run terraform fmt -recursive terraform")
KEY_OUTPUTS["terraform fmt"] = {None: "terraform not installed", 0: "formatted"}.get(code, "needs formatting")


# %% [markdown]
# ## Reusable modules
#
# One module per kind of resource (`modules/cloud_run`, `modules/pubsub`, `modules/cloud_sql`,
# `modules/gcs`), each with `variables.tf`, `main.tf`, `outputs.tf`, `versions.tf` and a README. The
# root calls each module **once per region** with `for_each = var.regions`, so a third region is one
# line in a `.tfvars` file. A good module:
#
# - types and describes every variable, and **validates** the inputs that would otherwise fail late
#   (a name that breaks the convention, a storage class that does not exist);
# - takes the **labels** and the **CMEK key** as inputs instead of inventing its own;
# - **describes its outputs** and exposes what callers need (the bucket's name and URL);
# - states only the provider *minimum* it needs; the root pins the exact range.

# %%
def describe_module(folder: Path) -> dict:
    """Variables (type, described, validated) and outputs (described) of one module."""
    variables, outputs = {}, {}
    for tf in sorted(folder.glob("*.tf")):
        data = estimate_cost._load_hcl(tf)
        for name, body in estimate_cost._blocks(data, "variable").items():
            kind = str(estimate_cost._attribute(body, "type", "untyped")).removeprefix("${").removesuffix("}")
            variables[name] = (kind, bool(estimate_cost._attribute(body, "description")), "validation" in body)
        for name, body in estimate_cost._blocks(data, "output").items():
            outputs[name] = bool(estimate_cost._attribute(body, "description"))
    return {"variables": variables, "outputs": outputs}


MODULES = {folder.name: describe_module(folder) for folder in sorted((TERRAFORM / "modules").iterdir())}
for name, module in MODULES.items():
    variables = module["variables"]
    undocumented = [v for v, (kind, described, _) in variables.items() if kind == "untyped" or not described]
    validated = [v for v, (_, _, checked) in variables.items() if checked]
    print(f"modules/{name}: {len(variables)} variables, {len(validated)} validated, outputs {list(module['outputs'])}")
    if undocumented or not all(module["outputs"].values()):
        print(f"   untyped or undescribed: {undocumented}")

CONFIG = estimate_cost.read_configuration(TERRAFORM)
print()
for call, arguments in CONFIG.module_calls.items():
    source = estimate_cost._attribute(arguments, "source")
    for_each = estimate_cost._attribute(arguments, "for_each")
    print(f'module "{call}": source {source}, for_each {for_each}')
if not MODULES.get("gcs", {}).get("variables"):
    OPEN_ITEMS.append("terraform/modules/gcs: write the module (variables, main, outputs, versions)")
KEY_OUTPUTS["modules"] = ", ".join(f"{n} ({len(m['variables'])} vars)" for n, m in MODULES.items())


# %% [markdown]
# ## State management with a GCS backend
#
# Terraform's state maps the configuration to real resources. It lives in a **GCS bucket** (versioned,
# uniform access, CMEK; created once by the platform team, never by the configuration whose state it
# holds), with **one prefix per environment**, so staging and production can never overwrite each
# other's state. The GCS backend locks the state with a lock object during every plan and apply.
# Backend blocks cannot read variables, so the prefix comes from a partial configuration per
# environment: `terraform init -backend-config=environments/prod.gcs.tfbackend`.

# %%
def assignments(path: Path) -> dict[str, str]:
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', path.read_text(encoding="utf-8"), re.M))


backend = (TERRAFORM / "backend.tf").read_text(encoding="utf-8")
print("backend:", re.search(r'backend\s+"(\w+)"', backend).group(1), assignments(TERRAFORM / "backend.tf"))
backend_files = sorted(TERRAFORM.glob("environments/*.gcs.tfbackend"))
prefixes = {f.name.split(".")[0]: assignments(f).get("prefix") for f in backend_files}
for environment, prefix in prefixes.items():
    print(f"  {environment:<8} prefix {prefix}")
shared = len(set(prefixes.values())) != len(prefixes)
if shared or not prefixes:
    OPEN_ITEMS.append("give every environment its own state prefix")
KEY_OUTPUTS["state"] = f"GCS backend, prefixes {sorted(prefixes.values())}"

# %% [markdown]
# ## Policy as code with OPA/Conftest
#
# The group's rules are **Rego** policies in `policy/`, evaluated by **conftest** (Open Policy Agent's
# language) on every `.tf` file and on the JSON of a saved plan (`terraform show -json plan.out`):
#
# | policy | rule |
# | --- | --- |
# | `labels.rego` | every resource that takes labels carries `plant`, `environment`, `cost_center`, `owner`, none empty |
# | `naming.rego` | names follow `mfgcp-<environment>-<region_short>-<component>`, e.g. `mfgcp-prod-euw4-documents` |
# | `storage.rego`, `encryption.rego`, `cloud_sql.rego` | no public buckets or databases, CMEK everywhere, deletion protection in production |
#
# Rules named `deny` fail the check with their message; `warn` only reports. Each policy has unit tests
# (`*_test.rego`, `conftest verify`). In CI conftest runs them; here the **regorus** engine (a Rego
# interpreter in a Python wheel) evaluates the same files in this kernel, and conftest or opa are used
# instead when they are on your PATH.

# %%
try:
    import regorus
except ImportError:  # pip install -e '.[notebooks]' adds it; conftest or opa work too
    regorus = None

POLICY_FILES = sorted((REPO / "policy").rglob("*.rego"))


def policy_engine():
    engine = regorus.Engine()
    for path in POLICY_FILES:
        engine.add_policy(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    return engine


if regorus is None:
    code, output = run("conftest", "verify", "--policy", "policy")
    if code is None:
        code, output = run("opa", "test", "policy")
    print(output)
    OPEN_ITEMS.append("install the notebooks extra (regorus) or conftest to evaluate the policies here")
else:
    engine = policy_engine()
    results = {}
    for path in POLICY_FILES:
        text = path.read_text(encoding="utf-8")
        package = re.search(r"^package\s+([\w.]+)", text, re.M).group(1)
        for test in sorted(set(re.findall(r"^(test_\w+)", text, re.M))):
            try:
                results[f"{path.name}::{test}"] = engine.eval_rule(f"data.{package}.{test}") is True
            except RuntimeError:
                results[f"{path.name}::{test}"] = False
    failed = [name for name, ok in results.items() if not ok]
    print(f"policy unit tests: {len(results) - len(failed)} of {len(results)} pass")
    for name in failed:
        print("  FAILED", name)
    if failed:
        OPEN_ITEMS.append(f"policy unit tests fail: {failed}")
    KEY_OUTPUTS["policy tests"] = f"{len(results) - len(failed)}/{len(results)} pass"


# %% [markdown]
# The naming convention abbreviates the region: `europe-west1` becomes `euw1` (continent `eu`, direction
# `w`, number `1`) and `asia-northeast1` becomes `asne1`. `terraform/main.tf` computes it in
# `local.region_short`.
#
# **Exercise.** Write the same abbreviation in Python. The next cell uses it to name a documents bucket
# in every region of production and asks the policies about three buckets: one as the module creates it,
# one named the old way, one whose labels lack the cost centre.

# %%
def region_short(location: str) -> str:
    """europe-west1 -> euw1, asia-northeast1 -> asne1: continent code, direction code, number."""
    # BEGIN SOLUTION lab07: continent code + direction code + trailing number, as local.region_short in main.tf
    continents = {"africa": "af", "asia": "as", "australia": "au", "europe": "eu", "me": "me",
                  "northamerica": "na", "southamerica": "sa", "us": "us"}
    directions = {"central": "c", "east": "e", "north": "n", "northeast": "ne", "northwest": "nw",
                  "south": "s", "southeast": "se", "southwest": "sw", "west": "w"}
    continent, direction = location.split("-")[:2]
    number = re.search(r"[0-9]+$", location).group()
    return continents[continent] + directions[re.match(r"[a-z]+", direction).group()] + number
    # END SOLUTION


# %%
prod = CONFIG.environments["prod"]
labels = {"plant": str(prod["plant_code"]).lower(), "environment": "prod", "cost_center": prod["cost_center"],
          "owner": prod["owner"]}


def bucket_plan(name: str, location: str, bucket_labels: dict) -> dict:
    """The JSON of `terraform show -json` for a plan that creates one bucket (the parts the policies read)."""
    bucket = {
        "name": name, "location": location, "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced", "force_destroy": False, "labels": bucket_labels,
        "encryption": [{"default_kms_key_name": f"projects/{prod['project_id']}/locations/{location}/keyRings/k"}],
        "versioning": [{"enabled": True}],
    }
    change = {"actions": ["create"], "before": None, "after": bucket, "after_unknown": {}}
    return {"variables": {"environment": {"value": "prod"}},
            "resource_changes": [{"address": "google_storage_bucket.documents", "type": "google_storage_bucket",
                                  "change": change}]}


try:
    names = {key: f"mfgcp-prod-{region_short(location)}-documents" for key, location in prod["regions"].items()}
except NotImplementedError as exc:
    names = {}
    OPEN_ITEMS.append(f"region_short exercise: {exc}")
print("bucket names:", names or "(finish region_short first)")
if regorus is not None and names:
    key, location = next(iter(prod["regions"].items()))
    cases = {
        "as the module names it": (bucket_plan(names[key], location, labels), False),
        "named the old way": (bucket_plan(f"{labels['plant']}-documents-bucket", location, labels), True),
        "labels without cost_center": (
            bucket_plan(names[key], location, {k: v for k, v in labels.items() if k != "cost_center"}), True
        ),
    }
    wrong = []
    for case, (document, should_deny) in cases.items():
        engine.set_input(document)
        denied = sorted(engine.eval_rule("data.main.deny") or [])
        print(f"{case:<28} {'DENIED' if denied else 'allowed'}")
        for message in denied:
            print("    ", message)
        if bool(denied) != should_deny:
            wrong.append(case)
    known = {"europe-west1": "euw1", "asia-northeast1": "asne1", "us-central1": "usc1", "southamerica-east1": "sae1"}
    wrong += [f"region_short({loc!r})" for loc, short in known.items() if region_short(loc) != short]
    if wrong:
        OPEN_ITEMS.append(f"policies or region_short decide wrongly on: {wrong}")
    KEY_OUTPUTS["policy decisions"] = f"{len(cases) - len(wrong)}/{len(cases)} bucket plans decided correctly"

# %% [markdown]
# ## Drift detection workflow and cost
#
# **Drift** is a difference between the state and reality: a console click, a `gcloud` command, a
# resource deleted by a script. `.github/workflows/terraform-drift.yml` runs `terraform plan
# -detailed-exitcode` for each environment every weekday before the morning shift, with a read-only
# planner identity (OIDC, no key). The exit code is the signal: **0** nothing differs, **2** drift (open
# or update an issue, fail the run), **1** the plan itself failed. It never applies: the fix is a pull
# request, reviewed and applied by `terraform.yml` after a manual approval, like any other change.
#
# **Cost** is estimated from the configuration before anything exists: `scripts/estimate_cost.py`
# reads the modules, every environment's `.tfvars` and `terraform/pricing.yaml` (dated public list
# prices plus the usage Terraform cannot know) and writes `terraform/cost-estimate.md`; `--check` fails
# when the committed estimate is stale, so every pull request shows what it costs.

# %%
drift = yaml.safe_load((REPO / ".github" / "workflows" / "terraform-drift.yml").read_text(encoding="utf-8"))
job = drift["jobs"]["drift"]
print("schedule:", [s["cron"] for s in drift[True].get("schedule", [])])
print("environments:", job["strategy"]["matrix"]["environment"], "| permissions:", job["permissions"])
steps = " ".join(step.get("run", "") for step in job["steps"])
print("plans with -detailed-exitcode:", "-detailed-exitcode" in steps, "| ever applies:", "terraform apply" in steps)

PLAN_EXIT = {0: "no drift", 1: "the plan failed: fix the pipeline", 2: "drift: open an issue, fix it by a pull request"}
for code in (0, 2, 1):
    print(f"  terraform plan -detailed-exitcode -> {code}: {PLAN_EXIT[code]}")

code, output = run("python", "scripts/estimate_cost.py", "--check")
print("\nestimate_cost.py --check:", output)
if code != 0:
    OPEN_ITEMS.append("terraform/cost-estimate.md is missing or stale: run python scripts/estimate_cost.py")
KEY_OUTPUTS["cost estimate"] = "up to date" if code == 0 else "stale or missing"

# %%
pricing = estimate_cost.load_pricing(TERRAFORM / "pricing.yaml")
ESTIMATE = estimate_cost.estimate(TERRAFORM, pricing)
for environment, items in ESTIMATE.items():
    total = sum(item.monthly_usd for item in items)
    print(f"{environment:<8} {total:>10,.2f} {pricing['currency']} per month")
    KEY_OUTPUTS[f"monthly cost {environment}"] = f"{total:,.2f} {pricing['currency']}"


# %% [markdown]
# **Exercise.** Price one line by hand. Cloud Run with CPU always allocated bills every instance for
# every second: `instances x hours x 3600 x (vCPU x price per vCPU-second + GiB x price per GiB-second)`,
# where `instances` is the larger of the minimum instances and the average busy instances (a usage
# assumption in `pricing.yaml`). Write the function; the cell after compares it with the script's line
# for production in the plant's region.

# %%
def cloud_run_monthly_usd(instances: float, vcpu: float, memory_gib: float, prices: dict, hours: float) -> float:
    """Monthly cost of Cloud Run instances that are billed for every second (CPU always allocated)."""
    # BEGIN SOLUTION lab07: instances x hours x 3600 x (vCPU x vcpu_second + GiB x gib_second)
    return instances * hours * 3600 * (vcpu * prices["vcpu_second"] + memory_gib * prices["gib_second"])
    # END SOLUTION


# %%
location = prod["regions"]["emea"] if "emea" in prod["regions"] else next(iter(prod["regions"].values()))
line = next(i for i in ESTIMATE["prod"] if i.component.startswith("Cloud Run") and i.region == location)
instances = max(float(prod["cloud_run_min_instances"]), float(pricing["usage"]["prod"]["cloud_run_busy_instances"]))
memory = float(str(prod["cloud_run_memory"]).removesuffix("Gi"))
prices = estimate_cost.region_prices(pricing, location)["cloud_run"]
try:
    mine = cloud_run_monthly_usd(instances, float(prod["cloud_run_cpu"]), memory, prices, pricing["hours_per_month"])
    print(f"by hand: {mine:,.2f}  script: {line.monthly_usd:,.2f}  ({line.quantity}, {location})")
    if abs(mine - line.monthly_usd) > 0.01:
        OPEN_ITEMS.append("cloud_run_monthly_usd exercise does not match the estimate")
except NotImplementedError as exc:
    OPEN_ITEMS.append(f"cloud_run_monthly_usd exercise: {exc}")
    print("not yet:", exc)

# %% [markdown]
# ## Operational checklists
#
# ### Security
#
# - [ ] Buckets, topics and databases are encrypted with the region's customer-managed key (CMEK); keys rotate every 90 days.
# - [ ] No bucket is public (uniform access, public access prevention) and Cloud SQL has no public IP.
# - [ ] CI authenticates with OIDC and Workload Identity Federation: a read-only planner for plans and drift, an applier only behind approval.
# - [ ] The state bucket is versioned, encrypted and readable only by the platform team and the pipeline (state can hold secrets).
#
# ### Compliance
#
# - [ ] Every resource carries `plant`, `environment`, `cost_center` and `owner` labels (policy/labels.rego).
# - [ ] The plant's data stays in the EMEA region; the APAC region holds only APAC data and disaster-recovery copies.
# - [ ] Every apply has a reviewed plan, kept as an artefact with the pull request (ISO 9001 change evidence).
# - [ ] Production has deletion protection on databases and buckets; `terraform destroy` is not possible there.
#
# ### Change management
#
# - [ ] `terraform fmt -check`, `conftest test` and `estimate_cost.py --check` run on every pull request.
# - [ ] Production applies need a manual approval in the `production` environment.
# - [ ] Drift is fixed by a pull request, never by a console change or an unreviewed apply.
# - [ ] Provider upgrades are their own pull request, planned in staging first.

# %% [markdown]
# ## Lab: a skeleton Terraform module and its estimated cost
#
# A skeleton Terraform module and its estimated cost: write one reusable module with typed variables,
# described outputs and cost labels, wire it into the root for both regions, and commit the cost
# estimate.
#
# Steps:
#
# 1. Write `terraform/modules/gcs` (`versions.tf`, `variables.tf` with types, descriptions and
#    validation of the name prefix, `main.tf` with uniform access, versioning, CMEK and labels,
#    `outputs.tf` with described outputs including the bucket name). The bucket keeps the plant's
#    documents: a lifecycle rule may delete only noncurrent versions (`with_state = "ARCHIVED"` or
#    `days_since_noncurrent_time`; an `age` condition alone also deletes the live object),
#    `force_destroy` is false in production, and access is granted on the bucket
#    (`google_storage_bucket_iam_member`), never on the project (a project grant reaches every bucket,
#    the state included) and never to `allUsers` or `allAuthenticatedUsers`.
# 2. Call it in `terraform/main.tf` once per region (`for_each = var.regions`) with the region's name
#    prefix, location, key and the common labels. Bucket names are global: the region's prefix
#    (`mfgcp-<environment>-<region_short>`) keeps the two regions' buckets from asking for one name.
# 3. Finish the deny rules in `policy/labels.rego` and `policy/naming.rego` until `conftest verify` passes
#    (a label with an empty value, `owner = ""`, counts as missing).
# 4. `terraform fmt -recursive terraform`, then `python scripts/estimate_cost.py` and commit
#    `terraform/cost-estimate.md`. In your own cloud project you would now run `terraform plan`; the
#    grader does not need one.
# 5. Grade it: `make grade LAB=lab07` at the repository root (from a cell of this notebook:
#    `!make -C .. grade LAB=lab07`).
#
# <!-- BEGIN RUBRIC -->
# <!-- generated by `capstone rubric --write` from the lab's grader: do not edit by hand -->
#
# **You deliver**
#
# | file | what |
# | --- | --- |
# | `terraform/modules/gcs` | the reusable module the student writes, with variables, outputs and labels |
# | `terraform/main.tf` | the root configuration wiring the module over both regions |
# | `terraform/cost-estimate.md` | the committed monthly cost estimate |
# | `policy/labels.rego` | the cost-allocation label rules (deny), tested by policy/labels_test.rego |
# | `policy/naming.rego` | the naming-convention rules (deny), tested by policy/naming_test.rego |
#
# **Grading rubric**: 100 points; `make grade LAB=lab07` runs these checks and tells you, for each one that does not pass, what was expected, where, and which section of this notebook explains it.
#
# | check | points | part | notebook section |
# | --- | ---: | --- | --- |
# | Production documents cannot be deleted by Terraform or a lifecycle rule | 6 | assignment | Lab: a skeleton Terraform module and its estimated cost |
# | Bucket names differ per region (they are global) | 3 | assignment | Lab: a skeleton Terraform module and its estimated cost |
# | The committed cost estimate matches the configuration (within 5%) | 8 | assignment | Drift detection workflow and cost |
# | Your policies deny known-bad inputs and allow known-good ones (HCL and plan JSON) | 10 | assignment | Policy as code with OPA/Conftest |
# | Your Rego unit tests pass (conftest verify) | 5 | assignment | Policy as code with OPA/Conftest |
# | The gcs module and the project have the expected structure | 8 | assignment | Reusable modules |
# | Variables have types and descriptions; the gcs module validates its inputs | 8 | assignment | Reusable modules |
# | Outputs are described; the gcs module exposes its bucket | 4 | assignment | Reusable modules |
# | The gcs module is called once per region with labels and a CMEK key | 8 | assignment | Reusable modules |
# | Storage access is granted on the bucket, never to everyone or on the project | 6 | lab | Lab: a skeleton Terraform module and its estimated cost |
# | The instructor's policies pass on your configuration | 10 | lab | Policy as code with OPA/Conftest |
# | Your policies pass on your own configuration | 4 | lab | Policy as code with OPA/Conftest |
# | checkov finds no problem in the curated Terraform checks | 5 | lab | Reusable modules |
# | Terraform files are formatted (terraform fmt) | 3 | lab | Terraform project structure |
# | Every Terraform file parses | 3 | lab | Terraform project structure |
# | Terraform and provider versions are pinned | 4 | lab | Terraform project structure |
# | State lives in a GCS backend with a prefix per environment | 5 | lab | State management with a GCS backend |
# | **total** (60 for the assignment) | **100** | | |
# <!-- END RUBRIC -->

# %%
gcs = TERRAFORM / "modules" / "gcs"
expected_files = ["versions.tf", "variables.tf", "main.tf", "outputs.tf", "README.md"]
present = [name for name in expected_files if (gcs / name).is_file()]
module = MODULES.get("gcs", {"variables": {}, "outputs": {}})
print(f"modules/gcs files: {present}")
print(f"variables: {sorted(module['variables'])}")
print(f"outputs: {module['outputs']}")
lab_ready = len(present) == len(expected_files) and "name" in module["outputs"] and "labels" in module["variables"]
if not lab_ready:
    OPEN_ITEMS.append("terraform/modules/gcs: all five files, a labels variable and a described name output")
KEY_OUTPUTS["gcs module"] = f"{len(present)}/{len(expected_files)} files, {len(module['variables'])} variables"

# %% [markdown]
# ## References
#
# Prior weeks:
#
# - **Weeks 05-08 (the RAG stack)**: the documents bucket and the Pub/Sub topic are where the RAG
#   corpus and its re-indexing events live in the cloud; the index is rebuilt from them.
# - **Weeks 09-10 (tuned models)**: tuned weights and adapters are stored next to the documents with the
#   same CMEK and labels; their GPU serving stays at the edge (Lab 08).
# - Lab 05 (the CI that runs fmt, conftest and the cost check) and Lab 06 (the Cloud Run services
#   these modules describe).
#
# External documentation:
#
# - Terraform, developing modules: https://developer.hashicorp.com/terraform/language/modules/develop
# - Conftest: https://www.conftest.dev/
# - Terraform, GCS backend: https://developer.hashicorp.com/terraform/language/backend/gcs
# - Terraform, `plan -detailed-exitcode`: https://developer.hashicorp.com/terraform/cli/commands/plan
# - Open Policy Agent, policy language: https://www.openpolicyagent.org/docs/latest/policy-language/
# - Google Cloud, CMEK for Cloud Storage: https://cloud.google.com/storage/docs/encryption/customer-managed-keys
# - Google Cloud pricing calculator: https://cloud.google.com/products/calculator

# %% [markdown]
# ## Record your progress
#
# The last cell writes this lab's key outputs to `capstone-progress.csv` at the root of your repository
# (one row per lab; running it again replaces the row). `make grade LAB=lab07 PROGRESS=1` adds
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
