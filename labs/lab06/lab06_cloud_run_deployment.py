# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 06 · GCP deployment on Cloud Run and Cloud Storage
#
# Week 11-12 · Production deployment and capstone. Lab 06 of 8.

# %% [markdown]
# ## Learning objectives and business impact
#
# After this notebook you can:
#
# - Draw the VPC, Cloud SQL, Cloud Storage and Cloud Run architecture
# - Deploy with gcloud using dedicated service accounts and least-privilege IAM
# - Manage secrets with Secret Manager and CMEK for storage
# - Release canaries with Cloud Run traffic splitting, and watch the budget
#
# **Business impact.** The group's plants without an edge host, and the engineers in the regional office,
# use the Copilot from Google Cloud. Cloud Run gives them a service that scales with the shifts and costs
# almost nothing at night, but a bad release there reaches every user at once. Canary releases with a
# smoke test and a one-command rollback turn a bad release into a few failed requests instead of a lost
# shift, least-privilege service accounts and customer-managed keys keep an incident contained, and a
# budget with alerts means nobody learns about a runaway GPU from the monthly invoice.

# %% [markdown]
# ## Factory narrative
#
# **Riverbend Stamping Plant (RVB01)** of **Meridian Industrial Group** keeps its edge host (Lab 03), and
# the group runs the same Copilot on Cloud Run for the plant's engineers working from the office, for
# the quality lab and as the failover when the edge host is down. Release 1.4.0 changes the retrieval of
# the maintenance assistant, and it is the first release that goes out as a canary.
#
# - **Aiko Tanaka (platform engineer)** owns the project, the VPC and the deployer identity; she wants
#   every release to follow the same script and every runtime account to hold only the roles it uses.
# - **Marco Bianchi (IT/OT security officer)** wants secrets only in Secret Manager, storage encrypted with
#   the group's own keys (CMEK) and nothing reachable from the internet.
# - **Helena Brandt (plant manager)** has a fixed monthly budget for the Copilot and wants to hear about an
#   overrun when it starts, not at the end of the month.
# - **Declan Murphy (maintenance lead)** wants to know when a release starts and how to tell his
#   technicians if it is rolled back.
# - **Jordan Rivera (MLOps engineer)**, you, write the runbook and the smoke test that decide whether
#   1.4.0 may take traffic.
#
# **Constraints.**
#
# - *EU data residency*: everything runs in the plant's EU region; documents, database and secrets stay there.
# - *ISO 9001 audits*: every release has a record (who, which revision, canary numbers, result), and a
#   rollback is a documented, rehearsed procedure, not an improvisation.
# - *GPU scarcity*: Cloud Run GPUs exist in a few regions and cost money every second an instance lives;
#   the Copilot runs on CPU, and the fine-tuned model gets a GPU only where the numbers justify it.
# - *Intermittent connectivity at the edge*: the cloud service is the fallback when a plant's edge host is
#   unreachable, so it must be released with the same care as the edge.
#
# ```mermaid
# flowchart LR
#     build["CI: image built, scanned<br/>api:1.4.0"] --> deploy["gcloud run deploy<br/>--no-traffic --tag canary"]
#     deploy --> smoke{"smoke test<br/>at the canary URL"}
#     smoke -- FAIL --> drop["remove the tag<br/>(users never saw it)"]
#     smoke -- PASS --> steps["5 % → 25 % → 50 %<br/>smoke test + 10 min bake each"]
#     steps -- "5xx, p95, groundedness OK" --> promote["promote: 100 %<br/>tag stable moves"]
#     steps -- "threshold crossed" --> rollback["rollback: one command<br/>100 % to stable"]
# ```

# %% [markdown]
# ## Setup
#
# Open this notebook from your capstone repository (it lives in `notebooks/`) with the kernel of your
# repository's `.venv` (`pip install -e '.[dev,notebooks]'`). The first cell finds the repository and reads
# the plant from `config/plant.yaml`. Nothing here calls Google Cloud: the deploy script runs with a
# **recording `gcloud`** that prints each command instead of executing it, and the smoke test runs against
# the Copilot started on this machine. `bash` and `shellcheck` are used when they are installed.

# %%
# Setup: run this cell first. It finds your capstone repository (the folder holding config/plant.yaml),
# makes its code importable and loads the plant profile: plant values always come from there.
LAB = "lab06"

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
# ## Infrastructure diagram: VPC, Cloud SQL, Cloud Storage and Cloud Run
#
# The Copilot on Google Cloud is two Cloud Run services and the managed services around them:
#
# ```mermaid
# flowchart LR
#     users["plant users"] --> lb["internal load balancer"] --> api["Cloud Run: API"]
#     api -->|publish| topic["Pub/Sub"] --> worker["Cloud Run: worker"]
#     api & worker -->|private ranges| conn["Serverless VPC connector"] --> sql[("Cloud SQL<br/>private IP")]
#     api & worker -->|read| gcs[("Cloud Storage<br/>documents, CMEK")]
#     sm["Secret Manager"] -->|pinned versions| api & worker
# ```
#
# - **Cloud Run** runs the API (scales 1-10 instances on requests) and the worker (pulls analyses from
#   Pub/Sub, CPU always allocated). Ingress is internal: users come through the plant's load balancer.
# - **Cloud SQL (PostgreSQL)** holds the audit trail and job results. It has **no public IP**: the services
#   reach its private IP through the **Serverless VPC connector** (`vpc-access-egress: private-ranges-only`,
#   so internet traffic does not take that path) and connect through the Cloud SQL Auth Proxy socket that
#   the `cloudsql-instances` annotation mounts.
# - **Cloud Storage** holds the documents, the equipment registry and the evaluation set
#   (`COPILOT_DATA_DIR=gs://...`); the API builds its index from them at start, so a corpus update is an
#   upload and a new revision, not an image rebuild.
# - Every resource carries the **cost-allocation labels** (`plant`, `environment`, `component`,
#   `cost_center`, `owner`), so the billing export splits the bill by plant.
#
# The repository's diagram is `docs/gcp-architecture.md`. The cell checks that it names every component and
# reads from the service definitions how each service is wired to them.

# %%
import re

import yaml

architecture = REPO / "docs" / "gcp-architecture.md"
text = architecture.read_text(encoding="utf-8") if architecture.is_file() else ""
diagram = next(iter(re.findall(r"```mermaid\n(.*?)```", text, re.S)), "")
COMPONENTS = ["VPC", "Cloud SQL", "Cloud Storage", "Cloud Run", "Secret Manager", "Pub/Sub", "Artifact Registry"]
drawn = [c for c in COMPONENTS if c.lower() in diagram.lower()]
print(f"docs/gcp-architecture.md: a diagram of {len(diagram.splitlines())} lines naming {drawn}")
if len(drawn) < len(COMPONENTS):
    OPEN_ITEMS.append(f"docs/gcp-architecture.md: the diagram is missing {sorted(set(COMPONENTS) - set(drawn))}")

CLOUDRUN = REPO / "deploy" / "cloudrun"
SERVICES = {
    path.stem.removeprefix("service-"): yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted(CLOUDRUN.glob("service-*.yaml"))
}
COST_LABELS = {"plant", "environment", "component", "cost_center", "owner"}


def template_of(service: dict) -> tuple[dict, dict]:
    """(revision metadata, revision spec) of a Knative service, empty where the file has none yet."""
    template = (service.get("spec") or {}).get("template") or {}
    return template.get("metadata") or {}, template.get("spec") or {}


for kind, service in SERVICES.items():
    metadata, _ = template_of(service)
    annotations = metadata.get("annotations") or {}
    labels = (service.get("metadata") or {}).get("labels") or {}
    ingress = ((service.get("metadata") or {}).get("annotations") or {}).get("run.googleapis.com/ingress", "all")
    print(f"\n{kind}: {service['metadata']['name']} (ingress {ingress})")
    print(f"  Cloud SQL:     {annotations.get('run.googleapis.com/cloudsql-instances', 'not connected')}")
    print(f"  VPC connector: {annotations.get('run.googleapis.com/vpc-access-connector', 'none').rsplit('/', 1)[-1]}"
          f" (egress {annotations.get('run.googleapis.com/vpc-access-egress', '-')})")
    print(f"  labels:        {labels}")
    missing = [] if annotations.get("run.googleapis.com/cloudsql-instances") else ["the Cloud SQL connection"]
    missing += [] if annotations.get("run.googleapis.com/vpc-access-connector") else ["the VPC connector"]
    missing += [f"the labels {sorted(COST_LABELS - set(labels))}"] if COST_LABELS - set(labels) else []
    if missing:
        OPEN_ITEMS.append(f"service-{kind}.yaml: add {', '.join(missing)}")
if "worker" not in SERVICES:
    OPEN_ITEMS.append("deploy/cloudrun/service-worker.yaml: write the worker's service definition")
KEY_OUTPUTS["architecture"] = f"diagram names {len(drawn)}/{len(COMPONENTS)} components; services {sorted(SERVICES)}"

# %% [markdown]
# ## Deployment commands with gcloud: IAM roles and service accounts
#
# Cloud Run runs each revision **as a service account**. Left alone it is the project's default compute
# account, which in many projects still holds the Editor role on the whole project: a bug or a stolen token of
# the API could then delete buckets.
# The Copilot instead runs as two dedicated accounts, `mfgcp-<env>-copilot-api` and `...-worker`, each with
# the few roles it uses, granted **on the resource** whenever the role allows it (a bucket, a secret, a
# topic), so a leaked token of the API can read one bucket and two secrets, not every bucket of the project.
#
# `deploy/cloudrun/iam-roles.txt` lists every grant with its reason (reviewers see *why* a role is there);
# `deploy/cloudrun/deploy.sh setup` creates the accounts and applies the list, refusing basic roles
# (owner, editor, viewer) and admin roles. The deployer (CI's identity, Lab 05) is a different account
# again: it may deploy revisions and *act as* the runtime accounts (`roles/iam.serviceAccountUser` on
# them), nothing more.
#
# The first cell reads the grants; the second runs `deploy.sh setup` with a **recording gcloud** first on
# `PATH`: a small script that writes each command line to a log instead of calling Google Cloud (and
# answers the two queries the deploy script reads). The deploy script itself runs unchanged, so what is
# printed is exactly what it would do.

# %%
roles_file = CLOUDRUN / "iam-roles.txt"
GRANTS = [
    line.split(None, 3) for line in roles_file.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
] if roles_file.is_file() else []
BROAD = re.compile(r"^roles/(owner|editor|viewer)$|\.admin$")
for account in sorted({g[0] for g in GRANTS}):
    mine = [g for g in GRANTS if g[0] == account]
    on_resources = [g for g in mine if g[1] != "project"]
    print(f"{account}: {len(mine)} roles, {len(on_resources)} granted on a single resource")
    for _, scope, role, *why in mine:
        print(f"  {role:<36} on {scope:<40} {why[0] if why else '(no reason given)'}")
too_broad = [g[2] for g in GRANTS if BROAD.search(g[2])]
unexplained = [g[2] for g in GRANTS if len(g) < 4]
without_roles = sorted({"api", "worker"} - {g[0] for g in GRANTS})
checks = {"too broad": too_broad, "without a reason": unexplained, "accounts without roles": without_roles}
for problem, found in checks.items():
    if found:
        OPEN_ITEMS.append(f"deploy/cloudrun/iam-roles.txt: {problem}: {found}")

code, output = run("shellcheck", "deploy/cloudrun/deploy.sh")
print("\nshellcheck deploy.sh:", "clean" if code == 0 else output[:1500])
if code not in (0, None):
    OPEN_ITEMS.append("deploy/cloudrun/deploy.sh: fix the shellcheck findings")
KEY_OUTPUTS["IAM"] = f"{len(GRANTS)} grants, broad roles: {too_broad or 'none'}"

# %%
import tempfile

RECORDING_GCLOUD = r"""#!/usr/bin/env bash
# Records the command line instead of calling Google Cloud, and answers the queries deploy.sh reads.
printf '  $ gcloud %s\n' "$*" >> "$GCLOUD_LOG"
case "$*" in
  "iam service-accounts describe"*) exit 1 ;;  # not there yet, so the script creates it
  *"value(status.url)"*) echo "https://$4-abc123-ez.a.run.app" ;;
  "auth print-identity-token"*) echo "identity-token" ;;
  "logging read"*"status>=500"*) for ((i = 0; i < ${FAKE_5XX:-0}; i++)); do echo 500; done ;;
  "logging read"*) for ((i = 0; i < ${FAKE_REQUESTS:-200}; i++)); do echo 200; done ;;
esac
exit 0
"""
RECORDING_PYTHON = r"""#!/usr/bin/env bash
# Stands in for the smoke test of deploy.sh; the Lab section runs the real one against a local Copilot.
printf '  $ python3 %s   (smoke test)\n' "${*#*/scripts/}" >> "$GCLOUD_LOG"
"""
QUIET = ("services describe", "auth print-identity-token", "logging read", "service-accounts describe")


def dry_run(*arguments: str, **settings: str) -> tuple[int | None, list[str]]:
    """Run deploy.sh with the recording gcloud: (exit code, the commands and messages in order)."""
    if shutil.which("bash") is None:
        return None, ["bash is not installed here: read deploy/cloudrun/deploy.sh instead"]
    with tempfile.TemporaryDirectory(prefix="notebook06-gcloud-") as tmp:
        for name, body in (("gcloud", RECORDING_GCLOUD), ("python3", RECORDING_PYTHON)):
            (Path(tmp) / name).write_text(body, encoding="utf-8")
            (Path(tmp) / name).chmod(0o755)
        log = Path(tmp) / "commands.log"
        env = {**os.environ, "PATH": f"{tmp}{os.pathsep}{os.environ.get('PATH', '')}", "GCLOUD_LOG": str(log),
               "PROJECT_ID": PROFILE.gcp.project_id, "REGION": PROFILE.gcp.primary_region, "CANARY_BAKE_S": "0",
               **settings}
        with log.open("a", encoding="utf-8") as out:
            done = subprocess.run(["bash", str(CLOUDRUN / "deploy.sh"), *arguments], cwd=REPO, stdout=out,
                                  stderr=subprocess.STDOUT, env=env, timeout=60)
        lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in log.read_text(encoding="utf-8").splitlines()]
    return done.returncode, [line for line in lines if not any(q in line for q in QUIET)]


code, lines = dry_run("setup")
kinds: dict[str, int] = {}
for line in lines:
    action = re.search(r"\$ gcloud (.*?(?:create|add-iam-policy-binding))\b", line)
    if action:
        kinds[action.group(1)] = kinds.get(action.group(1), 0) + 1
print(f"deploy.sh setup: exit {code}; gcloud commands by kind: {kinds}")
print(*[line for line in lines if line.startswith("  $")][:4], "  ...", sep="\n")
if code != 0:
    print(*lines[-3:], sep="\n")
    OPEN_ITEMS.append("deploy.sh setup: create the two service accounts and grant iam-roles.txt")
KEY_OUTPUTS["deploy.sh setup"] = f"exit {code}, {sum(kinds.values())} gcloud commands"

# %% [markdown]
# ## Secrets and key management: Secret Manager and CMEK
#
# The JWT signing key and the database URL live in **Secret Manager**, never in the service YAML, the image
# or a CI variable:
#
# - The service YAML references them with `valueFrom.secretKeyRef` (`name`: the secret, `key`: the
#   **version number**). Cloud Run resolves them when an instance starts. Pinning the version (not
#   `latest`) makes the secret part of the revision: rotating it is a new version *and* a new revision,
#   and a rollback to the old revision also rolls back to the secret it ran with.
# - Each runtime account has `roles/secretmanager.secretAccessor` on exactly the secrets it mounts.
# - Processes that run elsewhere with the runtime identity (a job, a laptop with
#   `gcloud auth application-default login`) read the same secrets through the Copilot's settings:
#   `COPILOT_SECRET_MANAGER_SECRETS=jwt_secret=<secret>,database_url=<secret>:3`.
#
# **CMEK** (customer-managed encryption keys): Google encrypts everything at rest anyway; with CMEK the key
# is the group's own, in Cloud KMS, in the same region. Disabling the key makes the data unreadable at once
# (the "kill switch" the security officer asked for), key use is logged, and the key rotates every 90 days.
# Lab 07's Terraform creates one key per region (`terraform/kms.tf`) and sets it as the default key of
# the documents bucket, of Pub/Sub and of Cloud SQL.
#
# The cell lists how each service gets its secrets, resolves a settings mapping with the Copilot's own
# Secret Manager code against a stand-in client (no cloud call), and shows the key configuration.

# %%
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL|CREDENTIALS", re.I)
literal_secrets = []
for kind, service in SERVICES.items():
    _, spec = template_of(service)
    for container in spec.get("containers") or []:
        for variable in container.get("env") or []:
            reference = (variable.get("valueFrom") or {}).get("secretKeyRef")
            if reference:
                source = f"Secret Manager {reference['name']}, version {reference['key']}"
                print(f"{kind:<7} {variable['name']:<20} <- {source}")
            elif SECRET_NAME.search(variable["name"]):
                literal_secrets.append(f"{kind}: {variable['name']}")
by_reference = sum(
    1 for s in SERVICES.values() for c in template_of(s)[1].get("containers") or [] for v in c.get("env") or []
    if (v.get("valueFrom") or {}).get("secretKeyRef")
)
if literal_secrets or not by_reference:
    OPEN_ITEMS.append(f"service YAML: COPILOT_JWT_SECRET and DATABASE_URL from Secret Manager (secretKeyRef), "
                      f"never literal{f': {literal_secrets}' if literal_secrets else ''}")

from copilot.core import secret_manager
from copilot.core.config import Settings


class StandInSecretManager:
    """Answers access_secret_version like the real client, from a dictionary (nothing leaves this kernel)."""

    def __init__(self) -> None:
        self.values = {"mfgcp-example-jwt-signing-key": "a-signing-key-of-at-least-32-characters-x"}

    def access_secret_version(self, request: dict, timeout: float):
        secret = request["name"].split("/secrets/")[1].split("/")[0]
        payload = type("Payload", (), {"data": self.values[secret].encode() + b"\n"})
        return type("Response", (), {"payload": payload})


refs = secret_manager.parse_mapping(
    "jwt_secret=mfgcp-example-jwt-signing-key:3", set(Settings.model_fields), PROFILE.gcp.project_id
)
print("\nCOPILOT_SECRET_MANAGER_SECRETS resolves to:", *[f"{r.field} <- {r.name}" for r in refs], sep="\n  ")
try:
    values = secret_manager.SecretManagerSource(Settings, refs, StandInSecretManager)()
    print("read through the settings source:", {k: f"{len(v)} characters" for k, v in values.items()})
except ImportError as exc:  # google-cloud-secret-manager comes with the [gcp] extra
    print(f"the Secret Manager client library is not installed ({exc.name}): pip install -e '.[gcp]'")

kms = REPO / "terraform" / "kms.tf"
kms_text = kms.read_text(encoding="utf-8") if kms.is_file() else ""
rotation = re.search(r'rotation_period\s*=\s*"(\d+)s"', kms_text)
gcs_module = REPO / "terraform" / "modules" / "gcs" / "main.tf"
bucket_key = gcs_module.is_file() and "default_kms_key_name" in gcs_module.read_text(encoding="utf-8")
print(f"\nterraform/kms.tf: key rotation every {int(rotation.group(1)) // 86400 if rotation else '?'} days; "
      f"documents bucket default key: {'set' if bucket_key else 'not yet (Lab 07)'}")
KEY_OUTPUTS["secrets"] = f"{by_reference} secret references, {len(literal_secrets)} literal secret values"

# %% [markdown]
# ## Cloud Run service YAML: revisions, probes and limits
#
# `deploy/cloudrun/service-api.yaml` is the API as a Knative `serving.knative.dev/v1` `Service`, the format
# `gcloud run services replace` applies and `gcloud run services describe --format yaml` prints. Reviewing a
# file beats reviewing a long `gcloud run deploy` command line:
#
# - `spec.template` describes the next **revision**; its `metadata.name` (`<service>-v1-4-0`) names the
#   release, so traffic rules and rollbacks can say which release they mean. A revision is immutable.
# - **Probes**: the startup probe on `/readyz` holds traffic until the index and the model are loaded (up to
#   two minutes); the liveness probe on `/healthz` restarts only a process that stopped serving, never all
#   instances because the database is briefly unreachable.
# - **Limits and scaling**: `resources.limits` (2 vCPU, 4 GiB), `containerConcurrency` (40 requests at once
#   per instance: RAG answers are CPU-bound), `minScale` (one warm instance for the first question of a
#   shift), `maxScale` (the hard cost cap).
# - `serviceAccountName`: the dedicated runtime account of the previous section.

# %%
for kind, service in SERVICES.items():
    metadata, spec = template_of(service)
    annotations = metadata.get("annotations") or {}
    container = (spec.get("containers") or [{}])[0]
    probes = {
        name: (container.get(name) or {}).get("httpGet", {}).get("path") or ("tcp" if container.get(name) else None)
        for name in ("startupProbe", "livenessProbe")
    }
    print(f"{kind}: revision {metadata.get('name')}, image {str(container.get('image', '?')).rsplit('/', 1)[-1]}")
    print(f"  runs as {spec.get('serviceAccountName', 'the DEFAULT compute account')}")
    limits = (container.get("resources") or {}).get("limits")
    scale = [annotations.get(f"autoscaling.knative.dev/{k}Scale", d) for k, d in (("min", "0"), ("max", "unbounded"))]
    print(f"  limits {limits}, concurrency {spec.get('containerConcurrency')}, scale {'-'.join(scale)}")
    print(f"  probes {probes}")
    missing = [name for name, path in probes.items() if not path]
    missing += [] if spec.get("serviceAccountName") else ["serviceAccountName"]
    missing += [] if limits else ["resources.limits"]
    if missing:
        OPEN_ITEMS.append(f"service-{kind}.yaml: add {missing}")
api_metadata, _ = template_of(SERVICES.get("api", {}))
KEY_OUTPUTS["API revision"] = str(api_metadata.get("name"))

# %% [markdown]
# ## Traffic splitting for canary releases
#
# A Cloud Run service routes traffic between its revisions by percentage, and **tags** give a revision its
# own URL (`https://canary---<service>-<hash>.a.run.app`) whatever its share. A release therefore goes:
#
# 1. `gcloud run deploy ... --no-traffic --tag canary`: the new revision starts, receives **0 %** of the
#    users' traffic, and is smoke-tested at its tag URL. A failure here costs nothing.
# 2. `gcloud run services update-traffic SERVICE --to-tags canary=5`, then 25, then 50: each step is
#    smoke-tested and **baked** (10 minutes) while the canary's error rate, latency and answer quality are
#    compared with the stable revision's over the same window.
# 3. **Promote** (`--to-revisions NEW=100 --update-tags stable=NEW`) or **roll back**
#    (`--to-tags stable=100`): one command, no rebuild, effective in seconds.
#
# The service YAML describes step 1: 100 % on the revision tagged `stable`, 0 % on the one tagged `canary`.
# The cell reads that split, then runs the real `deploy.sh deploy`, `canary` and `rollback` with the
# recording gcloud: a canary that stays healthy, and one whose error rate crosses 1 % at the first step.

# %%
traffic = (SERVICES.get("api", {}).get("spec") or {}).get("traffic") or []
for entry in traffic:
    print(f"  {entry.get('percent', 0):>3} %  {entry.get('revisionName', 'LATEST'):<32} tag {entry.get('tag', '-')}")
total = sum(int(entry.get("percent", 0)) for entry in traffic)
STABLE = next((e.get("revisionName") for e in traffic if e.get("tag") == "stable"), None)
CANARY = next((e.get("revisionName") for e in traffic if e.get("tag") == "canary"), None)
print(f"total {total} %, stable {STABLE}, canary {CANARY}")
if total != 100 or not STABLE or not CANARY:
    OPEN_ITEMS.append("service-api.yaml: 100 % on the stable revision and a canary tag with 0 % (spec.traffic)")
version = (CANARY or "api-v1-4-0").rsplit("-v", 1)[-1].replace("-", ".")  # the release the canary revision runs

for title, arguments, settings in [
    (f"deploy {version}: no traffic, canary tag, smoke test", ("deploy", version), {}),
    (f"canary {version}: steps 5 and 25, healthy", ("canary", version, "5", "25"), {}),
    (f"canary {version}: 5 % of the canary's requests fail", ("canary", version, "5", "25"), {"FAKE_5XX": "10"}),
]:
    code, lines = dry_run(*arguments, **settings)
    print(f"\n## deploy.sh {title} -> exit {code}", *lines, sep="\n")
    if code is None:
        break
    if code != (1 if settings else 0) or not any("update-traffic" in line or "run deploy" in line for line in lines):
        problem = f"deploy.sh {arguments[0]}: does not deploy, shift and roll back as the runbook says"
        OPEN_ITEMS.extend([problem] if problem not in OPEN_ITEMS else [])
KEY_OUTPUTS["traffic"] = f"{total} % split, stable {STABLE}, canary {CANARY}"


# %% [markdown]
# The script's own gate only looks at the 5xx share. The runbook's **canary analysis** decides with more
# numbers, each compared with the stable revision over the same window:
#
# | metric | promote to the next step when | roll back at once when |
# | --- | --- | --- |
# | requests seen | at least 50 (fewer: extend the bake) | - |
# | 5xx error rate | at most 1 % and at most stable + 0.5 points | above 2 % |
# | p95 latency | at most 2500 ms and at most 1.2 x stable | above 4000 ms |
# | mean groundedness | at least 0.80 | below 0.70 |
#
# Anything in between is **hold**: stay at this step for another window.
#
# **Exercise.** Write `canary_verdict` with these rules. It returns `"extend"`, `"rollback"`, `"promote"` or
# `"hold"`, in that order of precedence.

# %%
def canary_verdict(canary: dict, stable: dict) -> str:
    """Decide one canary step from the canary's and the stable revision's numbers over the same window.

    Each dict has ``requests``, ``error_rate`` (0..1), ``p95_ms`` and ``groundedness`` (0..1).
    """
    # BEGIN SOLUTION lab06: too few requests -> extend; any rollback threshold -> rollback; all promote rules -> promote
    if canary["requests"] < 50:
        return "extend"
    if canary["error_rate"] > 0.02 or canary["p95_ms"] > 4000 or canary["groundedness"] < 0.70:
        return "rollback"
    if (
        canary["error_rate"] <= min(0.01, stable["error_rate"] + 0.005)
        and canary["p95_ms"] <= min(2500, 1.2 * stable["p95_ms"])
        and canary["groundedness"] >= 0.80
    ):
        return "promote"
    return "hold"
    # END SOLUTION


# %%
stable_window = {"requests": 4200, "error_rate": 0.002, "p95_ms": 1400, "groundedness": 0.91}
CANARY_CASES = [
    ("healthy canary", {"requests": 230, "error_rate": 0.003, "p95_ms": 1500, "groundedness": 0.90}, "promote"),
    ("quiet night shift", {"requests": 12, "error_rate": 0.0, "p95_ms": 900, "groundedness": 0.95}, "extend"),
    ("error spike", {"requests": 230, "error_rate": 0.035, "p95_ms": 1500, "groundedness": 0.90}, "rollback"),
    ("slow but correct", {"requests": 230, "error_rate": 0.003, "p95_ms": 2100, "groundedness": 0.90}, "hold"),
    ("confidently wrong", {"requests": 230, "error_rate": 0.0, "p95_ms": 1300, "groundedness": 0.62}, "rollback"),
    ("worse than stable", {"requests": 230, "error_rate": 0.009, "p95_ms": 1500, "groundedness": 0.90}, "hold"),
]
try:
    wrong = [(name, expected, canary_verdict(numbers, stable_window)) for name, numbers, expected in CANARY_CASES
             if canary_verdict(numbers, stable_window) != expected]
except NotImplementedError as exc:
    wrong = [str(exc)]
for name, numbers, expected in CANARY_CASES:
    print(f"{name:<20} {numbers} -> expected {expected}")
if wrong:
    OPEN_ITEMS.append(f"canary_verdict exercise: {wrong}")
    print("not yet:", *wrong, sep="\n  ")
KEY_OUTPUTS["canary analysis"] = f"{len(CANARY_CASES) - len(wrong)}/{len(CANARY_CASES)} decisions right"

# %% [markdown]
# ## Budget monitoring and cost optimization for GPU and TPU
#
# Cloud Run bills vCPU-seconds and GiB-seconds. With **request-based** billing (the API) an instance costs
# only while it serves requests, apart from its minimum instances, which are billed at a lower idle rate while
# they wait; with **instance-based** billing (the
# worker, `cpu-throttling: "false"`, because it pulls from Pub/Sub between requests) every second of every
# instance counts. So `minScale` is the cost floor and `maxScale` the hard ceiling.
#
# A **budget** on the project (`deploy.sh budget`) alerts the billing admins and the platform team at 50 %,
# 90 % and 100 % of the monthly amount and at 100 % of the **forecast**, which fires mid-month when the
# trend will overshoot. Budgets never stop anything: `maxScale` and the database tier are the real limits.
#
# **GPUs and TPUs.** The Copilot itself needs none. The fine-tuned model of Weeks 09-10 does, and a Cloud Run
# GPU (one NVIDIA L4 per instance, at least 4 vCPU and 16 GiB) is billed for every second the instance
# lives. The levers: scale to zero when the plant sleeps (first request waits for the model to load),
# schedule `minScale` with the shifts (Cloud Scheduler raises it before the early shift and lowers it after
# the late one), committed-use discounts only for a steady base load, and before any of that: measure,
# because a quantised model on CPU often meets the latency target. TPUs are not offered on Cloud Run; they
# need GKE or Vertex AI and pay off for training or very high volume, not for one plant's copilot.
#
# The cell prices each service's floor and ceiling from its YAML and `terraform/pricing.yaml` (dated list
# prices, Lab 07), compares GPU instance-hours for three schedules, and records the budget command.

# %%
pricing_file = REPO / "terraform" / "pricing.yaml"
pricing = yaml.safe_load(pricing_file.read_text(encoding="utf-8")) if pricing_file.is_file() else {}
region = PROFILE.gcp.primary_region
rates = next((r["cloud_run"] for r in pricing.get("regions", []) if r["name"] == region), None)
HOURS = float(pricing.get("hours_per_month", 730))


def gib(memory: str) -> float:
    """A Kubernetes memory quantity (``4Gi``, ``512Mi``) in GiB."""
    match = re.fullmatch(r"([\d.]+)\s*([GM]i?)", str(memory))
    if not match:
        raise ValueError(f"memory limit {memory!r}: write it as e.g. 4Gi or 512Mi")
    return float(match.group(1)) / (1024 if match.group(2).startswith("M") else 1)


def instance_month_usd(vcpu: float, memory_gib: float, hours: float = HOURS) -> float:
    return hours * 3600 * (vcpu * rates["vcpu_second"] + memory_gib * rates["gib_second"])


if rates is None:
    print(f"no Cloud Run prices for {region} in terraform/pricing.yaml: add the region's row (Lab 07)")
else:
    print(f"Cloud Run list prices in {region} (as of {pricing.get('as_of')}): {rates}")
    for kind, service in SERVICES.items():
        metadata, spec = template_of(service)
        annotations = metadata.get("annotations") or {}
        limits = ((spec.get("containers") or [{}])[0].get("resources") or {}).get("limits") or {}
        if not limits:
            print(f"  {kind}: no resource limits yet, so no price")
            continue
        one = instance_month_usd(float(limits["cpu"]), gib(limits["memory"]))
        low = int(annotations.get("autoscaling.knative.dev/minScale", 0))
        high = int(annotations.get("autoscaling.knative.dev/maxScale", 100))  # Cloud Run's default instance cap
        print(f"  {kind:<7} {limits['cpu']} vCPU, {limits['memory']}: {one:,.0f} USD per always-on instance; "
              f"floor {low * one:,.0f}, ceiling {high * one:,.0f} USD a month")
        KEY_OUTPUTS[f"{kind} cost"] = f"{low * one:,.0f}-{high * one:,.0f} USD/month"

    gpu_host = instance_month_usd(4, 16)  # the smallest Cloud Run shape that may carry an L4
    schedules = {
        "always on (minScale 1)": HOURS,
        "shift schedule 05:30-22:30, weekdays": 17 * 5 / 7 * HOURS / 24,
        "scale to zero, busy 3 h a working day": 3 * 5 / 7 * HOURS / 24,
    }
    print("\nGPU instance for the fine-tuned model (CPU and memory part at list price; add the L4 rate per hour):")
    for name, hours in schedules.items():
        print(f"  {name:<40} {hours:>5.0f} GPU-hours, CPU and memory {gpu_host * hours / HOURS:>6,.0f} USD")

code, lines = dry_run("budget", BILLING_ACCOUNT="000000-AAAAAA-BBBBBB")
print(f"\ndeploy.sh budget -> exit {code}", *lines, sep="\n")
thresholds = re.findall(r"percent=([\d.]+)(,basis=forecasted-spend)?", " ".join(lines))
KEY_OUTPUTS["budget"] = ", ".join(f"{float(p):.0%}{' forecast' if f else ''}" for p, f in thresholds) or "not set"

# %% [markdown]
# ## Operational checklists
#
# ### Security
#
# - [ ] Each service runs as its own service account; every role in `iam-roles.txt` has a reason and is granted on the narrowest resource.
# - [ ] Secrets come from Secret Manager by reference with pinned versions; no secret is a literal in YAML, image or CI.
# - [ ] Ingress is internal; Cloud SQL has no public IP and is reached through the VPC connector.
# - [ ] Storage, Pub/Sub and Cloud SQL use the region's CMEK key; key use is audited and the key rotates every 90 days.
# - [ ] The deployer identity (CI, OIDC) can deploy and act as the runtime accounts, nothing else.
#
# ### Compliance
#
# - [ ] Every release has a record: version, revision, the stable revision before it, canary numbers per step, result, engineer.
# - [ ] Resources stay in the plant's EU region; the labels `plant`, `environment`, `component`, `cost_center`, `owner` are on every service.
# - [ ] The smoke test's output is kept with the release record as evidence.
# - [ ] The rollback procedure is rehearsed in staging each quarter and the rehearsal recorded.
#
# ### Change management
#
# - [ ] Releases go out as canaries (no traffic, smoke test, 5/25/50 %) and only in the release window outside shift changes.
# - [ ] The maintenance planner on shift is told before a release and at once after a rollback.
# - [ ] Database changes are backwards compatible (expand, then contract in a later release), so a rollback is always possible.
# - [ ] A budget alert on the project is acknowledged within a working day and explained in the cost review.

# %% [markdown]
# ## Lab: deployment runbook with rollback plan and smoke tests
#
# Deployment runbook with rollback plan and smoke tests: write the Cloud Run deployment runbook with an
# exact rollback command and a smoke test script that fails loudly on any broken step.
#
# Steps:
#
# 1. Finish the `TODO(lab06)` regions of `deploy/cloudrun/service-api.yaml`, `deploy.sh`, `iam-roles.txt`
#    and `docs/gcp-architecture.md`; write `service-worker.yaml`.
# 2. Write `docs/runbooks/deploy-cloud-run.md`: pre-deploy checks, deploy, smoke tests, canary analysis,
#    rollback (with the **exact** `gcloud run services update-traffic` command that puts 100 % back on the
#    stable revision) and communication and escalation, each with the commands an on-call engineer can
#    copy.
# 3. Finish `scripts/smoke_test.py`: liveness, readiness, a request without a token (must be 401), a RAG
#    question with a known answer and its sources, and an image classification. Each step prints
#    `PASS <step>` or `FAIL <step>: <what it saw>`; the exit code is 0 only when every step passed.
# 4. Run the cells below, then `make grade LAB=lab06`
#    (from this notebook: `!make -C .. grade LAB=lab06`).
#
# <!-- BEGIN RUBRIC -->
# <!-- generated by `capstone rubric --write` from the lab's grader: do not edit by hand -->
#
# **You deliver**
#
# | file | what |
# | --- | --- |
# | `deploy/cloudrun/service-api.yaml` | the Knative service definition of the API with a tagged canary |
# | `deploy/cloudrun/deploy.sh` | service accounts, no-traffic deploy, canary steps and one-command rollback |
# | `docs/runbooks/deploy-cloud-run.md` | the deployment runbook with canary analysis, rollback plan and smoke tests |
# | `scripts/smoke_test.py` | the smoke test that fails on the first broken step |
#
# **Grading rubric**: 100 points; `make grade LAB=lab06` runs these checks and tells you, for each one that does not pass, what was expected, where, and which section of this notebook explains it.
#
# | check | points | part | notebook section |
# | --- | ---: | --- | --- |
# | The runbook covers pre-deploy checks, deploy, smoke tests, canary analysis, rollback and escalation | 8 | assignment | Lab: deployment runbook with rollback plan and smoke tests |
# | The rollback section has an exact, runnable `gcloud run services update-traffic` command | 8 | assignment | Lab: deployment runbook with rollback plan and smoke tests |
# | The smoke test passes against a healthy Copilot and fails, naming the step, on each broken one | 20 | assignment | Lab: deployment runbook with rollback plan and smoke tests |
# | deploy.sh passes shellcheck and runs with set -euo pipefail | 6 | lab | Deployment commands with gcloud: IAM roles and service accounts |
# | deploy.sh deploys without traffic under a tag, shifts traffic in canary steps, promotes and rolls back | 8 | lab | Traffic splitting for canary releases |
# | deploy.sh creates service accounts with least-privilege, justified roles | 5 | lab | Deployment commands with gcloud: IAM roles and service accounts |
# | The Cloud Run services are valid Knative serving.knative.dev/v1 Services | 7 | lab | Cloud Run service YAML: revisions, probes and limits |
# | Traffic entries name their revision and add up to 100 % | 5 | lab | Traffic splitting for canary releases |
# | The API's new revision is a tagged canary beside a pinned stable revision | 5 | lab | Traffic splitting for canary releases |
# | Secrets come from Secret Manager by reference, never as literal values | 7 | lab | Secrets and key management: Secret Manager and CMEK |
# | Each service runs as its own dedicated service account | 6 | lab | Deployment commands with gcloud: IAM roles and service accounts |
# | Startup and liveness probes on the service's health endpoints | 5 | lab | Cloud Run service YAML: revisions, probes and limits |
# | CPU and memory limits, concurrency and an instance cap | 5 | lab | Cloud Run service YAML: revisions, probes and limits |
# | The API reaches Cloud SQL and the VPC, and every service carries cost-allocation labels | 5 | lab | Infrastructure diagram: VPC, Cloud SQL, Cloud Storage and Cloud Run |
# | **total** (36 for the assignment) | **100** | | |
# <!-- END RUBRIC -->

# %%
RUNBOOK = REPO / "docs" / "runbooks" / "deploy-cloud-run.md"
REQUIRED = {
    "Pre-deploy checks": r"pre[- ]?deploy",
    "Deploy": r"^deploy",
    "Smoke tests": r"smoke",
    "Canary analysis": r"canary",
    "Rollback": r"roll(ing|ed)?[\s_-]?back",
    "Communication and escalation": r"communicat|escalat",
}


def runbook_sections(markdown: str) -> dict[str, str]:
    """Level-2 sections of a Markdown document (headings inside code fences are not headings)."""
    found: dict[str, list[str]] = {}
    current, fenced = None, False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = line[3:].strip()
            found[current] = []
        elif current:
            found[current].append(line)
    return {title: "\n".join(body) for title, body in found.items()}


SECTIONS = runbook_sections(RUNBOOK.read_text(encoding="utf-8")) if RUNBOOK.is_file() else {}
unwritten = []
for label, pattern in REQUIRED.items():
    title = next((t for t in SECTIONS if re.search(pattern, t, re.I)), None)
    body = re.sub(r"<!--.*?-->", "", SECTIONS.get(title, ""), flags=re.S)
    words = len(re.findall(r"\w+", body))
    written = bool(title) and "TODO(lab06)" not in body and words >= 40
    print(f"{'ok ' if written else 'TODO'} {label:<30} {title or '(no section)'}: {words} words")
    if not written:
        unwritten.append(label)
if unwritten:
    OPEN_ITEMS.append(f"docs/runbooks/deploy-cloud-run.md: write the sections {unwritten}")
KEY_OUTPUTS["runbook"] = f"{len(REQUIRED) - len(unwritten)}/{len(REQUIRED)} sections written"


# %% [markdown]
# **Exercise.** The rollback section must hold the one command that puts 100 % of the API's traffic back on
# the stable revision, with the service, region and project spelled out, so that an engineer woken at night
# copies it without editing. Write `rollback_command`; the next cell checks it and compares it with the
# command in your runbook (flag order and `--flag=value` versus `--flag value` do not matter).

# %%
def rollback_command(service: str, region: str, project: str, stable_revision: str) -> str:
    """The gcloud command that sends 100 % of ``service``'s traffic to ``stable_revision``."""
    # BEGIN SOLUTION lab06: gcloud run services update-traffic SERVICE --region --project --to-revisions=REVISION=100
    return (
        f"gcloud run services update-traffic {service} --region={region} --project={project} "
        f"--to-revisions={stable_revision}=100"
    )
    # END SOLUTION


# %%
import shlex


def gcloud_call(command: str) -> tuple[list[str], dict[str, str]]:
    """A gcloud command line as (positional words, flags), whatever the flag style."""
    words, flags = [], {}
    tokens = shlex.split(command.replace("\\\n", " "))
    while tokens:
        token = tokens.pop(0)
        if token.startswith("--"):
            name, sep, value = token[2:].partition("=")
            flags[name] = value if sep else (tokens.pop(0) if tokens and not tokens[0].startswith("--") else "")
        else:
            words.append(token)
    return words, flags


service_name = SERVICES.get("api", {}).get("metadata", {}).get("name", "<api service>")
expected = (["gcloud", "run", "services", "update-traffic", "svc-a"],
            {"region": "europe-west1", "project": "p-1", "to-revisions": "svc-a-v1-0-0=100"})
try:
    mine = rollback_command("svc-a", "europe-west1", "p-1", "svc-a-v1-0-0")
    problems = [] if gcloud_call(mine) == expected else [f"rollback_command gives {mine!r}"]
except NotImplementedError as exc:
    problems = [str(exc)]
if problems:
    OPEN_ITEMS.append(f"rollback_command exercise: {problems}")
    print("not yet:", *problems, sep="\n  ")
else:
    target = rollback_command(service_name, region, PROFILE.gcp.project_id, STABLE or "<stable revision>")
    print("the rollback command:\n ", target)
    rollback_title = next((t for t in SECTIONS if re.search(REQUIRED["Rollback"], t, re.I)), None)
    commands = [
        " ".join(line.split()) for line in re.sub(r"\\\n\s*", " ", SECTIONS.get(rollback_title, "")).splitlines()
        if "update-traffic" in line and line.strip().startswith("gcloud")
    ]
    words, flags = gcloud_call(target)

    def rolls_back(command: str) -> bool:
        their_words, their_flags = gcloud_call(command)
        by_tag = their_flags.get("to-tags") == "stable=100"
        to_stable = by_tag or their_flags.get("to-revisions") == flags["to-revisions"]
        return their_words == words and their_flags.get("region") == region and to_stable

    matching = [command for command in commands if rolls_back(command)]
    print(f"update-traffic commands in the runbook's rollback section: {len(commands)}, matching: {len(matching)}")
    for command in matching[:1]:
        print(" ", command)
    if not matching:
        OPEN_ITEMS.append("the runbook's rollback section needs the exact update-traffic command for the API")
    KEY_OUTPUTS["rollback command"] = "in the runbook" if matching else "missing from the runbook"

# %% [markdown]
# **The smoke test against a running Copilot.** The next cell starts the real Copilot on this machine (uvicorn
# on a free local port, in a background thread, with a throwaway SQLite database), waits until `/readyz`
# says ready, exactly as Cloud Run's startup probe does, and runs `scripts/smoke_test.py` against it the way
# `deploy.sh` does after every traffic step. Then it breaks the service in the ways a bad revision breaks,
# one at a time, with a small fault injector in front of the app, and checks that the smoke test fails and
# names the broken step every time. A smoke test that passes a broken revision is worse than none: it makes
# the canary look safe.

# %%
import json
import socket
import threading
import time
import warnings

import httpx
import uvicorn

warnings.filterwarnings("ignore", message="IProgress not found")

from copilot.main import create_app
from copilot.security.tokens import mint_token

workdir = Path(tempfile.mkdtemp(prefix="notebook06-"))
settings = Settings(
    env="development",
    database_url=f"sqlite:///{workdir / 'copilot.db'}",
    data_dir=str(REPO / "data"),
    plant_config=REPO / "config" / "plant.yaml",
    model_uri=str(REPO / "models" / "inspection-cnn.pt"),
    log_level="WARNING",
)
app = create_app(settings)
FAULT: dict[str, object] = {"now": None}


def authenticated(scope: dict) -> bool:
    return any(name == b"authorization" for name, _ in scope.get("headers", []))


WRONG_ANSWER = {  # well-formed, but the answer and the sources of another question
    "answer": "Check the hydraulic oil level [1].", "citations": [{"number": 1, "document_id": "sop-other"}],
    "groundedness": 1.0, "model_version": "extractive-v1", "index_version": "x",
}
FAULTS = {  # what breaks -> (the step that must fail, which requests it hits, status, body)
    "readiness failing (model still loading)": ("readiness", lambda s: s["path"] == "/readyz", 503,
                                                {"status": "not_ready", "checks": {"model": "loading"}}),
    "RAG endpoint failing": ("rag", lambda s: s["path"] == "/v1/rag/query" and authenticated(s), 500,
                             {"detail": "Internal server error"}),
    "authentication disabled": ("authentication", lambda s: s["path"] == "/v1/rag/query" and not authenticated(s),
                                200, WRONG_ANSWER),
    "a wrong answer": ("rag", lambda s: s["path"] == "/v1/rag/query" and authenticated(s), 200, WRONG_ANSWER),
    "vision model unavailable": ("vision", lambda s: s["path"] == "/v1/vision/classify", 503,
                                 {"detail": "Model unavailable"}),
}


async def fault_injector(scope, receive, send):
    """The Copilot, unless the fault switched on now matches the request: then a broken answer instead."""
    fault = FAULTS.get(FAULT["now"])
    if scope["type"] == "http" and fault and fault[1](scope):
        body = json.dumps(fault[3]).encode()
        await send({"type": "http.response.start", "status": fault[2],
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    await app(scope, receive, send)


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
server = uvicorn.Server(uvicorn.Config(fault_injector, log_level="warning", access_log=False))
SERVER_THREAD = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
SERVER_THREAD.start()

started = time.monotonic()
with httpx.Client(base_url=BASE_URL, trust_env=False, timeout=5) as probe:
    ready = None
    while time.monotonic() - started < 45:
        try:
            ready = probe.get("/readyz")
            if ready.status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.25)
print(f"Copilot at {BASE_URL}: /readyz {ready.status_code if ready else 'no answer'} after "
      f"{time.monotonic() - started:.1f} s {ready.json().get('checks') if ready else ''}")
# Requests to this machine never go through a proxy (and never carry the token to one).
for name in ("NO_PROXY", "no_proxy"):
    hosts = [h for h in os.environ.get(name, "").split(",") if h]
    os.environ[name] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
TOKEN = mint_token(settings.jwt_secret.get_secret_value(), sub="smoke-test", role="engineer", plants=[PLANT.code])


# %%
def smoke_test(fault: str | None) -> tuple[int | None, str]:
    FAULT["now"] = fault
    try:
        return run("python", "scripts/smoke_test.py", "--base-url", BASE_URL, "--token", TOKEN, "--plant", PLANT.code)
    finally:
        FAULT["now"] = None


code, output = smoke_test(None)
print(f"healthy Copilot -> exit {code}\n{output}\n")
results = {"healthy": code == 0}
if code != 0:
    OPEN_ITEMS.append("scripts/smoke_test.py fails against a healthy Copilot: it would block every good release")
for fault, (step, *_) in FAULTS.items():
    code, output = smoke_test(fault)
    failed_lines = [line for line in output.splitlines() if line.startswith("FAIL")]
    caught = code not in (0, None)
    named = any(step in line.lower() for line in failed_lines)
    results[fault] = caught and named
    print(f"{fault:<42} -> exit {code}, {'caught' if caught else 'NOT CAUGHT'}"
          f"{', names the ' + step + ' step' if named else ''}")
    for line in failed_lines[:2]:
        print("     ", line[:150])
missed = [fault for fault, ok in results.items() if not ok]
if missed:
    OPEN_ITEMS.append(f"scripts/smoke_test.py does not catch (or name the step of): {missed}")
KEY_OUTPUTS["smoke test"] = f"{sum(results.values())}/{len(results)} scenarios judged right"

# %%
server.should_exit = True  # stop the local Copilot: the audit writer flushes, the port closes
SERVER_THREAD.join(timeout=15)
shutil.rmtree(workdir, ignore_errors=True)
print("local Copilot stopped")

# %% [markdown]
# ## References
#
# Prior weeks:
#
# - **Weeks 05-08 (the RAG stack)**: the smoke test's known-answer question comes from the plant's RAG
#   evaluation set (`data/eval/rag_eval.jsonl`); a canary is judged on the same groundedness metric.
# - **Weeks 09-10 (tuned models)**: the fine-tuned model is the one component that may need a Cloud Run GPU;
#   the budget section prices its schedules.
# - Lab 03 (the image Cloud Run runs), Lab 04 (the metrics the canary analysis reads), Lab 05 (the CI job
#   that deploys with OIDC), Lab 07 (the same resources in Terraform, with CMEK and the cost estimate).
#
# External documentation:
#
# - Rollouts, rollbacks and traffic migration: https://cloud.google.com/run/docs/rollouts-rollbacks-traffic-migration
# - Cloud Run YAML reference (Knative serving v1): https://cloud.google.com/run/docs/reference/yaml/v1
# - Service identity on Cloud Run: https://cloud.google.com/run/docs/securing/service-identity
# - Secrets on Cloud Run: https://cloud.google.com/run/docs/configuring/services/secrets
# - Connecting to Cloud SQL from Cloud Run: https://cloud.google.com/sql/docs/postgres/connect-run
# - Customer-managed encryption keys for Cloud Storage: https://cloud.google.com/storage/docs/encryption/customer-managed-keys
# - Cloud Billing budgets: https://cloud.google.com/billing/docs/how-to/budgets
# - GPUs on Cloud Run: https://cloud.google.com/run/docs/configuring/services/gpu
# - Cloud Run pricing: https://cloud.google.com/run/pricing

# %% [markdown]
# ## Record your progress
#
# The last cell writes this lab's key outputs to `capstone-progress.csv` at the root of your repository
# (one row per lab; running it again replaces the row). `make grade LAB=lab06 PROGRESS=1` adds
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
