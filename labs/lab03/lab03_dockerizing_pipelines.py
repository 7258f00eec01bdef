# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 03 · Dockerizing GenAI pipelines for the plant edge
#
# Week 11-12 · Production deployment and capstone. Lab 03 of 8.

# %% [markdown]
# ## Learning objectives and business impact
#
# After this notebook you can:
#
# - Build a multi-stage image with a vulnerability scan step
# - Handle secrets with compose secrets and files, never inline environment values
# - Provide CPU and GPU build variants
# - Wire API, worker, Redis and PostgreSQL with health-checked dependencies
# - Harden images - non-root, read-only filesystem, health checks
#
# **Business impact.** The Copilot has to answer on the shop floor when the plant's uplink does not. A
# container image is the unit that makes that possible: built and scanned once, shipped to the edge host
# as a versioned artefact, started by one command, and identical in staging and production. Hardened
# images and environment-specific compose files turn "it worked on my laptop" into a release the IT/OT
# security officer can sign off, and a restart after a power cut into a non-event for the maintenance team.

# %% [markdown]
# ## Factory narrative
#
# **Riverbend Stamping Plant (RVB01)** of **Meridian Industrial Group** gets its own Copilot: an edge host
# in the plant's server room, next to the lines press-1, weld-2 and paint-3, runs the API, the analysis
# worker, Redis and PostgreSQL. The plant's uplink to the group's cloud drops several times a day, and the
# OT network is separated from the office network by a firewall that allows almost nothing.
#
# - **Declan Murphy (maintenance lead)** needs answers at 3 a.m. when the uplink is down: the whole stack
#   runs on the edge host, and it comes back by itself after a power cut.
# - **Marco Bianchi (IT/OT security officer)** allows containers on the OT network only if they run
#   unprivileged, read-only, without secrets in images or environment variables, and with scanned images.
# - **Aiko Tanaka (platform engineer)** ships the same images to every plant and wants one command per
#   environment: staging and production side by side on the edge host, never colliding.
# - **Priya Nair (quality engineer)** needs to know exactly which image version answered a question on a
#   given day (ISO 9001 traceability): release tags, never `latest`.
# - **Jordan Rivera (MLOps engineer)**, you, write the environment overrides and harden the stack.
#
# **Constraints.**
#
# - *Intermittent connectivity at the edge*: images are pulled when the link is up and cached; a deploy
#   must work from the cache, and a bundle must survive a dropped upload (`scripts/edge_deploy.py`).
# - *ISO 9001 audits*: every running container traces back to a release tag, a scanned image and the
#   compose files of that release.
# - *EU data residency*: the audit trail and job results stay in PostgreSQL on the edge host; the images
#   come from the group's registry in the EU region.
# - *GPU scarcity*: most edge hosts have no GPU; the CPU image is the default, and the GPU variant runs
#   only where a GPU and the NVIDIA Container Toolkit are installed.
#
# ```mermaid
# flowchart LR
#     registry["Artifact Registry (EU)<br/>api:1.0.0 · api:1.0.0-gpu"] -. "pull when the uplink is up" .-> cache
#     subgraph edge["edge host in the plant (docker compose)"]
#         cache[("image cache")] --> api["api<br/>read-only, user 10001"]
#         cache --> worker["worker<br/>read-only, user 10001"]
#         api -->|enqueue| redis[("redis<br/>append-only")]
#         redis -->|consume| worker
#         api -->|audit trail| postgres[("postgres")]
#         worker -->|results| postgres
#         secrets["/run/secrets/*<br/>(files, mode 0600)"] -.-> api & worker & postgres
#     end
#     technicians["technicians on the OT network"] -->|HTTPS| api
# ```

# %% [markdown]
# ## Setup
#
# Open this notebook from your capstone repository (it lives in `notebooks/`) with the kernel of your
# repository's `.venv` (`pip install -e '.[dev,notebooks]'`). The first cell finds the repository and reads
# the plant from `config/plant.yaml`. No Docker engine is needed: the notebook reads the Dockerfiles and
# compose files, merges them the way Docker Compose does, and runs the linters that work without one
# (hadolint, checkov, check-jsonschema) when they are installed.

# %%
# Setup: run this cell first. It finds your capstone repository (the folder holding config/plant.yaml),
# makes its code importable and loads the plant profile: plant values always come from there.
LAB = "lab03"

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
# ## Multi-stage Dockerfile
#
# One image runs both processes of the Copilot: the API (`uvicorn copilot.main:app`) and, with another
# command, the analysis worker (`python -m copilot.worker`). The `Dockerfile` builds it in three stages:
#
# | stage | from | holds | why |
# | --- | --- | --- | --- |
# | `base` | `python:3.11.11-slim-bookworm` (pinned) | interpreter, `ENV`, `WORKDIR` | shared by both stages below |
# | `dependencies` | `base` | a virtual environment in `/opt/venv`, built with pip | build tools and caches never reach the runtime |
# | `runtime` | `base` | `COPY --from=dependencies /opt/venv`, `config/`, `data/`, `models/` | the only stage that ships |
#
# Layer order is a performance decision: `pyproject.toml` is copied and the dependencies installed
# **before** the source, so editing a Python file rebuilds one small layer, not the 800 MB of torch. The
# `--mount=type=cache` of BuildKit keeps pip's download cache between builds without putting it in a layer.
#
# The cell reads the repository's Dockerfiles into stages (`FROM ... AS name` starts one), shows what
# each final stage copies from earlier stages, and runs **hadolint**, the Dockerfile linter (it checks
# pinned versions, `USER`, shell pitfalls, and runs shellcheck on every `RUN`).

# %%
import re


def dockerfile_stages(text: str) -> list[dict]:
    """The stages of a Dockerfile in order: name, base image, instructions, stages it copies from."""
    stages: list[dict] = []
    for line in re.sub(r"\\\n", " ", text).splitlines():  # join continuation lines first
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            stages.append({"name": name, "base": words[0], "instructions": [], "copies_from": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, rest.strip()))
            source = re.search(r"--from=(\S+)", rest) if keyword == "COPY" else None
            if source:
                stages[-1]["copies_from"].append(source.group(1))
    return stages


DOCKERFILES = [p.name for p in sorted(REPO.glob("Dockerfile*")) if p.is_file()]
STAGES = {name: dockerfile_stages((REPO / name).read_text(encoding="utf-8")) for name in DOCKERFILES}
for name, stages in STAGES.items():
    print(f"{name}: {len(stages)} stage(s)")
    for stage in stages:
        kinds = " ".join(keyword for keyword, _ in stage["instructions"]) or "(used only to copy from)"
        copies = f"   <- copies from {', '.join(sorted(set(stage['copies_from'])))}" if stage["copies_from"] else ""
        print(f"  {stage['name']:<13} FROM {stage['base']}{copies}\n  {'':<13} {kinds}")

main_stages = STAGES.get("Dockerfile", [])
final = main_stages[-1] if main_stages else {"name": "-", "instructions": [], "copies_from": []}
users = [rest for keyword, rest in final["instructions"] if keyword == "USER"]
print(f"\nfinal stage {final['name']!r}: user {users[-1] if users else 'root (no USER)'}, "
      f"health check {'yes' if any(k == 'HEALTHCHECK' for k, _ in final['instructions']) else 'no'}")
if len(main_stages) < 2 or not final["copies_from"]:
    OPEN_ITEMS.append("Dockerfile: build the dependencies in a stage of their own and COPY --from it into the runtime")

if not DOCKERFILES:
    OPEN_ITEMS.append("Dockerfile is missing at the repository root")
code, output = run("hadolint", "--no-color", *DOCKERFILES) if DOCKERFILES else (None, "no Dockerfile to lint")
print("\nhadolint:", "no findings" if code == 0 else output)
KEY_OUTPUTS["Dockerfile"] = (
    f"{len(main_stages)} stage(s) ({', '.join(s['name'] for s in main_stages)}), "
    f"hadolint {'clean' if code == 0 else 'not run' if code is None else 'has findings'}"
)

# %% [markdown]
# ## Vulnerability scanning
#
# Three scanners, three questions:
#
# - **hadolint** and **checkov** read the Dockerfile before anything is built: is it written safely
#   (pinned base, non-root `USER`, `HEALTHCHECK`, no `ADD` of URLs, no secrets in `ENV`)?
# - **Trivy** scans the built image for known vulnerabilities (CVEs) in the OS packages and the Python
#   wheels, and the repository's configuration files for misconfigurations. `make image-scan` runs it
#   locally; the `scan` job of `.github/workflows/main.yml` (Lab 05) writes SARIF reports for every
#   severity and then **gates**: a CRITICAL finding that has a fix stops the pipeline before the image
#   is pushed. A finding without a fix is reported, not blocking, and goes into the release notes.
# - The CycloneDX **SBOM** that Trivy writes next to the scan lists every package in the image, so when a
#   new CVE is published the plant can answer "are we affected?" without rebuilding anything.
#
# Scanning needs a vulnerability database (downloaded by Trivy) and a built image, so it runs in CI and on
# your workstation; this cell shows where the repository runs it and runs checkov's Dockerfile checks,
# which work offline.

# %%
import contextlib
import io

import yaml

workflow_file = REPO / ".github" / "workflows" / "main.yml"
workflow = yaml.safe_load(workflow_file.read_text(encoding="utf-8")) if workflow_file.is_file() else {}
trivy_steps = [
    (job_name, step.get("name", "?"), step.get("with", {}))
    for job_name, job in (workflow.get("jobs") or {}).items()
    for step in job.get("steps", [])
    if "trivy" in str(step.get("uses", "")) + str(step.get("run", ""))
]
for job_name, step_name, inputs in trivy_steps:
    gate = "GATE" if str(inputs.get("exit-code")) == "1" else "report"
    print(f"{job_name}: {gate:<6} {inputs.get('scan-type', '?'):<7} {inputs.get('severity', 'all'):<14} {step_name}")
if not trivy_steps:
    print(f"{workflow_file.relative_to(REPO)} runs no Trivy scan yet (the scan job is part of Lab 05)")
makefile = (REPO / "Makefile").read_text(encoding="utf-8") if (REPO / "Makefile").is_file() else ""
print("make image-scan:", *[line.strip() for line in makefile.splitlines() if line.strip().startswith("trivy")],
      sep="\n  ")
code, output = run("trivy", "--version")
print("trivy here:", output.splitlines()[0] if code == 0 else "not installed (CI and `make image-scan` run it)")

os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")  # checkov: never ask the Prisma Cloud API for metadata
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from checkov.dockerfile.runner import Runner
        from checkov.runner_filter import RunnerFilter

        report = Runner().run(root_folder=None, files=[str(REPO / n) for n in DOCKERFILES],
                              runner_filter=RunnerFilter(framework=["dockerfile"]))
except ImportError:
    report = None
if report is None:
    print("\ncheckov is not installed in this kernel (pip install checkov); `make grade LAB=lab03` runs it")
    KEY_OUTPUTS["checkov"] = "not run here"
else:
    reports = report if isinstance(report, list) else [report]
    failed = sorted({(Path(f.file_path).name, f.check_id, f.check_name) for r in reports for f in r.failed_checks})
    passed = sum(len(r.passed_checks) for r in reports)
    print(f"\ncheckov Dockerfile checks: {passed} passed, {len(failed)} failed")
    for file_name, check_id, check_name in failed:
        print(f"  FAILED {file_name}: {check_id} {check_name}")
    if failed:
        OPEN_ITEMS.append(f"checkov Dockerfile checks fail: {sorted({c for _, c, _ in failed})}")
    KEY_OUTPUTS["checkov"] = f"{passed} passed, {len(failed)} failed"

# %% [markdown]
# ## Secure handling of environment variables
#
# Environment variables are for **configuration**, not for **secrets**: `docker inspect` prints them, every
# child process inherits them, crash reports and debug pages dump them. The Copilot's rules:
#
# - **Build time**: no secret in `ARG` or `ENV` (both end up in `docker history`), whatever the variable is
#   called: an index URL with `user:token@` in it, or a harmless-sounding `ARG` that a `RUN` puts into a
#   URL's user part or an `Authorization:` header, is a secret too. The private package index is a BuildKit
#   secret, mounted for one `RUN` only: `RUN --mount=type=secret,id=pip_conf,...`.
# - **Build context**: `.dockerignore` is an allow-list (`**`, then `!src/` ...) and excludes `.env*` and
#   `secrets/` again, so a stray `.env` can never be copied into a layer.
# - **Run time**: compose `secrets:` mounts each secret file read-only at `/run/secrets/<name>`. The
#   service reads `DATABASE_URL` and `COPILOT_JWT_SECRET` from there (pydantic-settings' secrets
#   directory), PostgreSQL its password through `POSTGRES_PASSWORD_FILE`.
# - **`.env` files** hold non-secret settings per environment (`.env.staging`, `.env.prod`), are created
#   from the committed `*.example` files and are never committed themselves.
#
# The first cell lists who mounts which secret in the base compose file and looks for secret values written
# inline; the second shows the service reading its secrets from files, and refusing to start in production
# with the development signing key.

# %%
import fnmatch

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|DATABASE_URL|CREDENTIALS", re.I)


class Reset:
    """``key: !reset ...`` in an override file removes what an earlier file set."""


class Override:
    """``key: !override value`` replaces what an earlier file set, instead of merging with it."""

    def __init__(self, value):
        self.value = value


class ComposeLoader(yaml.SafeLoader):
    """Safe YAML (anchors and merge keys resolved) plus the two tags of compose override files."""


def _tag(loader: ComposeLoader, suffix: str, node: yaml.Node):
    if suffix == "reset":
        return Reset()
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_scalar(node))


ComposeLoader.add_multi_constructor("!", _tag)


def load_compose(name: str) -> dict | None:
    """A compose file of the repository as Compose reads it, or None when it does not exist."""
    path = REPO / name
    return yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader) if path.is_file() else None


def environment_of(service: dict) -> dict:
    """A service's environment as a mapping, whichever of the two syntaxes the file uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


BASE = load_compose("docker-compose.yml") or {}
declared_secrets = BASE.get("secrets") or {}
print("secrets declared in docker-compose.yml:",
      {name: spec.get("file") for name, spec in declared_secrets.items()} or "none")
inline = []
for name, service in (BASE.get("services") or {}).items():
    mounted = [s if isinstance(s, str) else s.get("source") for s in service.get("secrets") or []]
    env = environment_of(service)
    literal = [k for k, v in env.items() if SECRET_NAME.search(k) and not k.endswith("_FILE") and v]
    inline += [f"services.{name}.environment.{k}" for k in literal]
    print(f"  {name:<9} mounts {mounted or 'nothing'}; secret-like values inline: {literal or 'none'}")
if inline or not declared_secrets:
    OPEN_ITEMS.append(f"docker-compose.yml: move secrets to compose secrets files, not environment values: {inline}")


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context: the last matching pattern decides."""
    decision = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = {pattern, pattern.removeprefix("**/")}
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a folder pattern covers its files
        if any(fnmatch.fnmatchcase(p, c) for c in candidates for p in prefixes):
            decision = not negated
    return decision


dockerignore = REPO / ".dockerignore"
patterns = [
    line.strip() for line in dockerignore.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
] if dockerignore.is_file() else []
must_stay_out = [".env", ".env.prod", "secrets/database_url.txt", "secrets/copilot_jwt_secret.txt"]
must_go_in = ["pyproject.toml", "src/copilot/main.py", "config/plant.yaml"]
leaks = [p for p in must_stay_out if not ignored(p, patterns)]
missing = [p for p in must_go_in if ignored(p, patterns)]
print(f"\n.dockerignore: {len(patterns)} patterns; would leak into the context: {leaks or 'nothing'}; "
      f"would wrongly exclude: {missing or 'nothing'}")
if leaks:
    OPEN_ITEMS.append(f".dockerignore: keep {leaks} out of the build context")
KEY_OUTPUTS["secrets"] = f"{len(declared_secrets)} compose secrets, {len(inline)} inline secret values"

# %%
import secrets
import tempfile

from pydantic import ValidationError

from copilot.core.config import Settings

secrets_dir = Path(tempfile.mkdtemp(prefix="notebook03-secrets-"))  # stands in for /run/secrets
(secrets_dir / "copilot_jwt_secret").write_text(secrets.token_urlsafe(48), encoding="utf-8")
(secrets_dir / "database_url").write_text("postgresql://copilot:from-a-file@postgres:5432/copilot", encoding="utf-8")
previous = os.environ.get("COPILOT_SECRETS_DIR")
os.environ["COPILOT_SECRETS_DIR"] = str(secrets_dir)
try:
    from_files = Settings(env="production")
    print(f"production settings from files: database {from_files.database_url.split('@')[-1]}, "
          f"signing key of {len(from_files.jwt_secret.get_secret_value())} characters, "
          f"shown as {from_files.jwt_secret!r}")
    (secrets_dir / "copilot_jwt_secret").unlink()
    try:
        Settings(env="production")
        refused = "started with the development key: fix Settings._refuse_insecure_secret"
        OPEN_ITEMS.append("Settings must refuse the development signing key in production")
    except ValidationError as exc:
        refused = exc.errors()[0]["msg"]
    print("without the secret file:", refused[:160])
finally:
    if previous is None:
        os.environ.pop("COPILOT_SECRETS_DIR", None)
    else:
        os.environ["COPILOT_SECRETS_DIR"] = previous
    shutil.rmtree(secrets_dir, ignore_errors=True)

# %% [markdown]
# ## Build variants for CPU and GPU
#
# Most edge hosts have no GPU, and the Copilot does not need one: the extractive answers and the small
# inspection CNN run on CPU. Where a plant has a GPU (a camera tunnel with high image rates, or the
# fine-tuned language model of Weeks 09-10 served next to the lines), `Dockerfile.gpu` builds the same
# layout on `nvidia/cuda:...-cudnn-runtime` with the CUDA build of torch:
#
# - The image carries the CUDA **user-space** libraries; the **driver** comes from the host. The host
#   needs the NVIDIA driver and the **NVIDIA Container Toolkit** (`nvidia-ctk runtime configure
#   --runtime=docker`), which makes `--gpus all` and compose's device reservations work.
# - `docker-compose.gpu.yml` is one more override: `deploy.resources.reservations.devices` with
#   `driver: nvidia`, `capabilities: [gpu]`, and the `-gpu` image tag.
# - The code picks the device at start (`COPILOT_VISION_DEVICE`, else CUDA when torch sees a GPU), so
#   one code base serves both images.
# - GPU images are several GB: build them in CI, never on the edge host, and pull them only on hosts
#   that have a GPU.
#
# The cell compares the two Dockerfiles, reads the GPU override and asks this machine what it has.

# %%
from copilot.vision.classifier import pick_device


def build_args(text: str) -> dict[str, str]:
    return dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))


for name in DOCKERFILES:
    text = (REPO / name).read_text(encoding="utf-8")
    print(f"{name:<15} bases {[s['base'] for s in STAGES[name]]}, args {build_args(text)}")
if "Dockerfile.gpu" not in DOCKERFILES:
    print("Dockerfile.gpu: not written (an optional extension of this lab)")

gpu_override = load_compose("docker-compose.gpu.yml") or {}
for name, service in (gpu_override.get("services") or {}).items():
    devices = (((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices")
    print(f"docker-compose.gpu.yml {name}: devices {devices}, env {environment_of(service)}")

code, output = run("nvidia-smi", "-L")
print("\nnvidia-smi:", output.splitlines()[0] if code == 0 and output else "no NVIDIA driver on this machine")
device = pick_device(None)
print(f"the vision model would run on: {device} (COPILOT_VISION_DEVICE overrides it)")
KEY_OUTPUTS["build variants"] = f"{', '.join(DOCKERFILES)}; this machine: {device}"

# %% [markdown]
# ## Local development with docker-compose
#
# `docker-compose.yml` is the **base**: the four services, their health checks, named volumes and secrets,
# the parts every environment shares. Environments add **override files**, merged in the order of `-f`:
#
# | file | read by | adds |
# | --- | --- | --- |
# | `docker-compose.override.yml` | `docker compose up` (automatically) | build from the checkout, source mounted read-only with `--reload`, debug logs, datastores on `127.0.0.1` |
# | `docker-compose.staging.yml` | `docker compose --env-file .env.staging -f docker-compose.yml -f docker-compose.staging.yml up -d` | its own project name, hardening, smaller limits |
# | `docker-compose.prod.yml` | the same with `.env.prod` and the prod file | pinned release image, hardening, limits, log rotation |
#
# How Compose **merges**: mappings merge key by key and the later file wins; `command`, `entrypoint` and
# `healthcheck.test` are replaced; `environment` and `labels` merge by name; `ports`, `volumes`, `secrets`
# and `env_file` are **appended**, a later entry replacing an earlier one only for the same port binding or
# mount target. So an override can add a port but cannot remove one the base publishes (only `!reset` can):
# keep in the base only what every environment needs. `${VAR:-default}` is filled from the `--env-file`.
#
# `depends_on` with `condition: service_healthy` makes Compose start a service only after its dependencies
# report healthy: the API waits for PostgreSQL and Redis, instead of crashing and restarting in a loop
# while the database initialises after a power cut.
#
# The cell merges the files the way Compose does (the next cells use it for every environment) and validates
# each file against the Compose Specification's JSON schema with check-jsonschema.

# %%
VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")
REPLACED = {"command", "entrypoint"}


def interpolate(value, env: dict[str, str]):
    """``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$`` as Compose fills them from the env file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if isinstance(value, Override):
        return Override(interpolate(value.value, env))
    if not isinstance(value, str):
        return value

    def fill(match: re.Match) -> str:
        if match.group(1):
            return "$"
        name, operator, argument = match.group(2) or match.group(5), match.group(3), match.group(4) or ""
        current = env.get(name)
        unset = current is None or ((operator or "").startswith(":") and current == "")
        if operator in (":?", "?") and unset:
            raise ValueError(f"{name} is required: {argument or 'set it in the env file'}")
        if operator in (":-", "-") and unset:
            return argument
        return current or ""

    return VARIABLE.sub(fill, value)


def port_key(port) -> str:
    """The binding a port entry makes (host IP, host port, container port): what makes two entries the same."""
    if isinstance(port, dict):
        return f"{port.get('host_ip', '')}:{port.get('published', '')}:{port.get('target')}"
    parts = str(port).split(":")
    return ":".join(["", "", *parts][-3:])


UNIQUE_BY = {
    "ports": port_key,
    "volumes": lambda v: v.get("target") if isinstance(v, dict) else str(v).split(":")[1 if ":" in str(v) else 0],
    "secrets": lambda s: s if isinstance(s, str) else s.get("target") or s.get("source"),
    "env_file": lambda e: e if isinstance(e, str) else e.get("path"),
}


def normalised(service: dict) -> dict:
    """Short syntaxes in the form Compose merges them in: environment as a mapping, depends_on as one too."""
    service = dict(service)
    if "environment" in service and not isinstance(service["environment"], Override):
        service["environment"] = environment_of(service)
    if isinstance(service.get("depends_on"), list):
        service["depends_on"] = {name: {"condition": "service_started"} for name in service["depends_on"]}
    for key in UNIQUE_BY:
        if isinstance(service.get(key), str):
            service[key] = [service[key]]
    return service


def merge(base, over, path: tuple = ()):
    """Merge a later file's value into the earlier one by Compose's rules."""
    if isinstance(over, Override):
        return over.value
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            if isinstance(value, Reset):
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge(merged[key], value, (*path, key))
            else:
                merged[key] = value.value if isinstance(value, Override) else value
        return merged
    attribute = path[2] if len(path) == 3 and path[0] == "services" else None
    if attribute in REPLACED or path[2:] == ("healthcheck", "test"):
        return over
    if isinstance(base, list) and isinstance(over, list):
        if attribute in UNIQUE_BY:
            entries: dict = {}
            for entry in base + over:
                entries[UNIQUE_BY[attribute](entry)] = entry  # a later entry replaces one with the same key
            return list(entries.values())
        return base + over
    return base if over is None else over


def read_env_file(name: str) -> dict[str, str]:
    path = REPO / name
    if not path.is_file():
        return {}
    pairs = [line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line]
    return {k.strip(): v.strip().strip("'\"") for k, v in pairs if not k.strip().startswith("#")}


def render(files: list[str], env_file: str) -> dict:
    """The merged, interpolated configuration of ``files``: what `docker compose ... config` prints."""
    model: dict = {}
    env = read_env_file(env_file)
    for name in files:
        document = load_compose(name)
        if document is None:
            raise FileNotFoundError(f"{name} does not exist yet")
        document = interpolate(document, env)
        services = document.get("services") or {}
        document["services"] = {k: normalised(v) if isinstance(v, dict) else v for k, v in services.items()}
        model = merge(model, document)
    return model


def image_of(service: dict) -> str:
    return "built from the checkout" if service.get("build") else str(service.get("image", "?")).split("/")[-1]


COMPOSE_FILES = sorted(p.name for p in REPO.glob("docker-compose*.yml"))
code, output = run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", *COMPOSE_FILES)
print(f"check-jsonschema ({', '.join(COMPOSE_FILES)}):", output.splitlines()[-1] if output else code)
if code not in (0, None):
    OPEN_ITEMS.append(f"compose files do not validate against the Compose Specification:\n{output}")

DEV = render(["docker-compose.yml", "docker-compose.override.yml"], ".env.example") if (
    REPO / "docker-compose.override.yml").is_file() else render(["docker-compose.yml"], ".env.example")
print(f"\n{'service':<9} {'image':<24} {'ports':<20} depends on")
for name, service in DEV["services"].items():
    ports = [port_key(p).lstrip(":") for p in service.get("ports") or []]
    needs = {dep: spec.get("condition") for dep, spec in (service.get("depends_on") or {}).items()}
    print(f"{name:<9} {image_of(service):<24} {', '.join(ports) or '-':<20} {needs or '-'}")


# %% [markdown]
# **Exercise.** In which order does `docker compose up` start the services? A service starts after every
# service in its `depends_on`; with `condition: service_healthy` it also waits until that dependency's
# health check passes. Write `start_order`: it returns the services in an order that respects every
# dependency (alphabetical among those that are ready at the same time, so the answer is unique), and
# raises `ValueError` for a cycle, which Compose refuses too.

# %%
def start_order(services: dict[str, dict]) -> list[str]:
    """Service names in the order Compose starts them; ValueError naming the services of a cycle."""
    # BEGIN SOLUTION lab03: repeatedly start (alphabetically) every service whose dependencies have all started
    needs = {name: set(spec.get("depends_on") or {}) for name, spec in services.items()}
    order: list[str] = []
    while needs:
        ready = sorted(name for name, deps in needs.items() if deps <= set(order))
        if not ready:
            raise ValueError(f"dependency cycle between {sorted(needs)}")
        order.append(ready[0])
        del needs[ready[0]]
    return order
    # END SOLUTION


# %%
known = {
    "api": {"depends_on": {"postgres": {"condition": "service_healthy"}, "redis": {}}},
    "worker": {"depends_on": {"redis": {}}},
    "redis": {},
    "postgres": {},
}
cycle = {"a": {"depends_on": {"b": {}}}, "b": {"depends_on": {"a": {}}}, "c": {}}
try:
    problems = []
    if start_order(known) != ["postgres", "redis", "api", "worker"]:
        problems.append(f"start_order(known) gives {start_order(known)}")
    try:
        start_order(cycle)
        problems.append("a cycle must raise ValueError")
    except ValueError:
        pass
except NotImplementedError as exc:
    problems = [str(exc)]
if problems:
    OPEN_ITEMS.append(f"start_order exercise: {problems}")
    print("not yet:", *problems, sep="\n  ")
else:
    order = start_order(DEV["services"])
    gated = {
        name: sorted(dep for dep, spec in (service.get("depends_on") or {}).items()
                     if spec.get("condition") == "service_healthy")
        for name, service in DEV["services"].items()
    }
    print("docker compose up starts:", " -> ".join(order))
    for name in order:
        print(f"  {name:<9} waits for healthy: {gated[name] or '-'}; health check: "
              f"{'yes' if DEV['services'][name].get('healthcheck') else 'NO'}")
    ungated = [n for n in ("api", "worker") if n in gated and not {"postgres", "redis"} <= set(gated[n])]
    if ungated:
        OPEN_ITEMS.append(f"docker-compose.yml: {ungated} must wait for healthy PostgreSQL and Redis")
    KEY_OUTPUTS["start order"] = " -> ".join(order)


# %% [markdown]
# ## Image hardening checklist
#
# What the IT/OT security officer checks before a container may run on the OT network, and where each item
# lives (`docs/hardening-checklist.md` has the full list with the command that verifies each one):
#
# | item | in the image | in the production compose file |
# | --- | --- | --- |
# | non-root user | `useradd --uid 10001`, `USER 10001:10001` | `user: "10001:10001"` |
# | read-only root filesystem | writes only to `/tmp` and `/app/var` | `read_only: true` and a `tmpfs` for `/tmp` |
# | no capabilities, no privilege escalation | - | `cap_drop: [ALL]`, `security_opt: ["no-new-privileges:true"]` |
# | health checks | `HEALTHCHECK` on `/healthz` | `/readyz` for the API, the worker's heartbeat |
# | pinned images | `python:3.11.11-slim-bookworm` | the release tag from `.env.prod`, never `latest` |
# | bounded resources | - | `deploy.resources.limits`, `restart: unless-stopped`, rotated `json-file` logs |
#
# A read-only root filesystem is the item with the biggest effect: an attacker (or a bug) cannot drop a
# binary, change the code or fill the disk; the Copilot writes only to the tmpfs and its named volume.
#
# A `HEALTHCHECK` counts only if it works. Docker runs its command **inside the container**, so it can use
# only what the image has: `python:3.11-slim` has no `curl` or `wget`, and `CMD curl -f ...` marks the
# container unhealthy forever; Python's `urllib.request` is always there. It must call `/healthz` on the
# port the server listens on (`--port 8080` of the `CMD`, not uvicorn's default 8000) and exit non-zero when
# the answer is not 200: a command that swallows the error (`|| exit 0`, a bare `try/except`) reports
# healthy while the API is down. The grader runs your `HEALTHCHECK` command against your running API (with
# your interpreter, the image's port pointed at it) and again with nothing listening.
#
# **Exercise.** Write `hardening_gaps`: given one service of a **merged** compose configuration, list the
# hardening items it misses, using the names of the table: `non-root user`, `read-only root filesystem`,
# `tmpfs /tmp`, `no capabilities`, `no new privileges`. The next cell checks it on known services and then
# applies it to your production configuration.

# %%
def hardening_gaps(service: dict) -> list[str]:
    """The hardening items a merged compose service misses (empty when it is hardened)."""
    # BEGIN SOLUTION lab03: check user (not root or 0), read_only, a /tmp tmpfs, cap_drop ALL and no-new-privileges
    gaps = []
    user = str(service.get("user") or "root").split(":")[0]
    if user in ("root", "0", ""):
        gaps.append("non-root user")
    if service.get("read_only") is not True:
        gaps.append("read-only root filesystem")
    tmpfs = service.get("tmpfs") or []
    if not any(str(entry).split(":")[0] == "/tmp" for entry in ([tmpfs] if isinstance(tmpfs, str) else tmpfs)):
        gaps.append("tmpfs /tmp")
    if "ALL" not in [str(c).upper() for c in service.get("cap_drop") or []]:
        gaps.append("no capabilities")
    if not any(str(o).replace(" ", "") in ("no-new-privileges:true", "no-new-privileges")
               for o in service.get("security_opt") or []):
        gaps.append("no new privileges")
    return gaps
    # END SOLUTION


# %%
hardened = {"user": "10001:10001", "read_only": True, "tmpfs": ["/tmp:size=64m"], "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"]}
cases = [
    (hardened, []),
    ({**hardened, "user": "0:0"}, ["non-root user"]),
    ({**hardened, "read_only": False, "tmpfs": []}, ["read-only root filesystem", "tmpfs /tmp"]),
    ({"image": "redis:7"}, ["non-root user", "read-only root filesystem", "tmpfs /tmp", "no capabilities",
                            "no new privileges"]),
]
try:
    wrong = [(case, expected, hardening_gaps(case)) for case, expected in cases
             if sorted(hardening_gaps(case)) != sorted(expected)]
except NotImplementedError as exc:
    wrong = [str(exc)]
if wrong:
    OPEN_ITEMS.append(f"hardening_gaps exercise: {wrong}")
    print("not yet:", *wrong, sep="\n  ")
elif not (REPO / "docker-compose.prod.yml").is_file():
    print("docker-compose.prod.yml does not exist yet: write it in the Lab section, then run this cell again")
else:
    PROD = render(["docker-compose.yml", "docker-compose.prod.yml"], ".env.prod.example")
    gaps = {name: hardening_gaps(PROD["services"][name]) for name in ("api", "worker") if name in PROD["services"]}
    for name, missing_items in gaps.items():
        print(f"production {name:<7} gaps: {missing_items or 'none'}")
    if any(gaps.values()):
        OPEN_ITEMS.append(f"docker-compose.prod.yml: harden the API and worker: {gaps}")
    KEY_OUTPUTS["hardening"] = "api and worker hardened" if not any(gaps.values()) else f"gaps {gaps}"

# %% [markdown]
# ## Operational checklists
#
# ### Security
#
# - [ ] The runtime image runs as an unprivileged user with a read-only root filesystem, no capabilities and no new privileges.
# - [ ] Secrets are compose `secrets:` files (mode 0600 on the host), never environment values, `ARG`, `ENV` or image layers.
# - [ ] `.dockerignore` keeps `.env*` and `secrets/` out of the build context.
# - [ ] Trivy scans every image before it is pushed; fixable CRITICAL findings stop the release.
# - [ ] PostgreSQL and Redis publish no host port outside development.
#
# ### Compliance
#
# - [ ] Every running container traces to a release tag (never `latest`), its scan report and its SBOM.
# - [ ] Base images are pinned by version (and by digest for releases); updates are reviewed pull requests.
# - [ ] The audit trail and job results stay on the edge host's PostgreSQL volume, backed up with the plant's data.
# - [ ] The compose files of each release are kept with the release (the edge bundle is named by its SHA-256).
#
# ### Change management
#
# - [ ] A new image is deployed to staging on the edge host first, with its own compose project, before production.
# - [ ] Production changes go through `scripts/edge_deploy.py` only; nobody edits compose files on the host.
# - [ ] The previous release stays on the host for a rollback (`current` points back to it, `docker compose up -d`).
# - [ ] Base image and dependency updates are batched monthly, scanned and released like any other change.

# %% [markdown]
# ## Lab: staging and production overrides
#
# Environment overrides for staging and production: write docker-compose override files for local
# development, staging and production that merge with the base file into hardened, environment-appropriate
# configurations.
#
# Steps:
#
# 1. Finish the `TODO(lab03)` regions of `Dockerfile` (multi-stage, non-root, health check) and
#    `docker-compose.yml` (secrets as files, a worker health check, health-gated `depends_on`).
# 2. Write `docker-compose.override.yml` (development: build from the checkout, source mounted read-only
#    with reload, debug logs, datastores published on `127.0.0.1` only).
# 3. Write `docker-compose.staging.yml` with `.env.staging.example` (project `name:` of its own, the env
#    file as `env_file`, debug logging, limits smaller than production) and `docker-compose.prod.yml` with
#    `.env.prod.example` (the release image from `${COPILOT_IMAGE_TAG}`, no source mounts, restart policies,
#    CPU and memory limits, the hardening of the checklist above, no published datastore ports, rotated logs).
# 4. Run the cells below until they report nothing open, then `make grade LAB=lab03`
#    (from this notebook: `!make -C .. grade LAB=lab03`).
#
# <!-- BEGIN RUBRIC -->
# <!-- generated by `capstone rubric --write` from the lab's grader: do not edit by hand -->
#
# **You deliver**
#
# | file | what |
# | --- | --- |
# | `Dockerfile` | multi-stage, non-root image with a health check |
# | `docker-compose.override.yml` | local development overrides |
# | `docker-compose.staging.yml` | staging overrides (own project name and env file, debug logging, smaller limits) |
# | `docker-compose.prod.yml` | production overrides (no bind mounts, pinned images, limits, read-only root, no published database ports) |
#
# **Grading rubric**: 100 points; `make grade LAB=lab03` runs these checks and tells you, for each one that does not pass, what was expected, where, and which section of this notebook explains it.
#
# | check | points | part | notebook section |
# | --- | ---: | --- | --- |
# | Every compose file is valid against the Compose Specification | 3 | assignment | Lab: staging and production overrides |
# | Local development builds from the checkout with live reload and debug logs | 4 | assignment | Lab: staging and production overrides |
# | Production pulls images pinned by version or digest (never latest) | 5 | assignment | Lab: staging and production overrides |
# | Production mounts no source code | 5 | assignment | Lab: staging and production overrides |
# | Every production service has a restart policy | 3 | assignment | Lab: staging and production overrides |
# | Every production service has CPU and memory limits | 5 | assignment | Lab: staging and production overrides |
# | API and worker run with a read-only root filesystem and a /tmp tmpfs | 5 | assignment | Image hardening checklist |
# | API and worker run unprivileged: non-root user, no capabilities, no new privileges | 5 | assignment | Image hardening checklist |
# | No debug settings in production | 4 | assignment | Lab: staging and production overrides |
# | PostgreSQL and Redis are not published on host ports in production | 5 | assignment | Lab: staging and production overrides |
# | Production logs are rotated | 3 | assignment | Lab: staging and production overrides |
# | Staging is its own project with its own env file | 6 | assignment | Lab: staging and production overrides |
# | Staging runs with smaller resource limits than production | 3 | assignment | Lab: staging and production overrides |
# | The base stack wires API, worker, Redis and PostgreSQL with health-gated dependencies | 8 | lab | Local development with docker-compose |
# | Secrets come from compose secrets files, never inline environment values | 6 | lab | Secure handling of environment variables |
# | Multi-stage build: dependencies built in a stage the runtime copies from | 6 | lab | Multi-stage Dockerfile |
# | The final stage runs as a non-root USER | 5 | lab | Image hardening checklist |
# | The image's HEALTHCHECK passes against the running API and fails when it is down | 4 | lab | Image hardening checklist |
# | No ADD of remote URLs | 3 | lab | Multi-stage Dockerfile |
# | No secrets in ENV, ARG or the build context | 5 | lab | Secure handling of environment variables |
# | hadolint: no errors, few warnings | 3 | lab | Multi-stage Dockerfile |
# | checkov's Dockerfile checks pass | 4 | lab | Vulnerability scanning |
# | **total** (56 for the assignment) | **100** | | |
# <!-- END RUBRIC -->

# %% [markdown]
# The cell renders each environment as `docker compose --env-file E -f docker-compose.yml -f OVERRIDE config`
# would, and compares what the table of `docs/docker.md` promises: project name, image, source mounts, log
# level, hardening, published datastore ports, restart policy and limits.

# %%
ENVIRONMENTS = {
    "development": ("docker-compose.override.yml", ".env.example"),
    "staging": ("docker-compose.staging.yml", ".env.staging.example"),
    "production": ("docker-compose.prod.yml", ".env.prod.example"),
}
DATASTORES = ("postgres", "redis")
RENDERED: dict[str, dict] = {}
for environment, (override, env_file) in ENVIRONMENTS.items():
    if not (REPO / override).is_file():
        OPEN_ITEMS.append(f"{override}: write the {environment} override")
        continue
    if environment != "development" and not (REPO / env_file).is_file():
        OPEN_ITEMS.append(f"{env_file}: document the {environment} settings (COPILOT_IMAGE_TAG ...)")
    try:
        RENDERED[environment] = render(["docker-compose.yml", override], env_file)
    except ValueError as exc:
        OPEN_ITEMS.append(f"{override}: {exc}")


def limits(service: dict) -> tuple[float, str]:
    found = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return float(found.get("cpus", 0) or 0), str(found.get("memory", "-"))


def memory_mib(text: str) -> float:
    """A compose memory size (``512m``, ``1g``, bytes) in MiB; 0 when it is not a size."""
    match = re.fullmatch(r"([\d.]+)\s*([kmg]?)b?", str(text).strip().lower())
    if not match:
        return 0.0
    number, unit = match.groups()
    return float(number) * {"k": 1 / 1024, "m": 1, "g": 1024, "": 1 / 2**20}[unit]


def limits_text(service: dict) -> str:
    cpus, memory = limits(service)
    return f"{cpus:g} CPU, {memory}" if cpus else "none"


def gap_count(service: dict) -> int | str:
    try:
        return len(hardening_gaps(service))
    except NotImplementedError:
        return "exercise open"


def published(model: dict, names: tuple[str, ...]) -> str:
    bindings = [port_key(p).strip(":") for n in names for p in model["services"].get(n, {}).get("ports") or []]
    return ", ".join(b.rsplit(":", 1)[0] for b in bindings) or "none"


def mounts_source(model: dict) -> bool:
    volumes = [v for s in model["services"].values() for v in s.get("volumes") or []]
    return any(str(v).startswith(("./", "/")) or (isinstance(v, dict) and v.get("type") == "bind") for v in volumes)


rows = {
    "project name": lambda m: m.get("name", "(folder name)"),
    "api image": lambda m: image_of(m["services"]["api"]),
    "source mounted": mounts_source,
    "api LOG_LEVEL": lambda m: environment_of(m["services"]["api"]).get("LOG_LEVEL"),
    "api hardening gaps": lambda m: gap_count(m["services"]["api"]),
    "datastore host ports": lambda m: published(m, DATASTORES),
    "api restart": lambda m: m["services"]["api"].get("restart", "no"),
    "api limits": lambda m: limits_text(m["services"]["api"]),
}
if RENDERED:
    print(f"{'':<22}" + "".join(f"{e:<32}" for e in RENDERED))
    for label, value in rows.items():
        print(f"{label:<22}" + "".join(f"{value(m)!s:<32}" for m in RENDERED.values()))
else:
    print("no environment renders yet: write the override files (steps 2 and 3)")

prod, staging = RENDERED.get("production"), RENDERED.get("staging")
if prod:
    problems = []
    for name, service in prod["services"].items():
        image = str(service.get("image", ""))
        if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
            problems.append(f"{name}: pin the image by version ({image or 'no image'})")
        if service.get("build") or any(str(v).startswith(("./", "/")) for v in service.get("volumes") or []):
            problems.append(f"{name}: no build and no source mounts in production")
        if not service.get("restart"):
            problems.append(f"{name}: set a restart policy")
        if limits(service)[0] <= 0 or limits(service)[1] == "-":
            problems.append(f"{name}: set CPU and memory limits")
        if (service.get("logging") or {}).get("options", {}).get("max-size") is None:
            problems.append(f"{name}: rotate its logs (json-file max-size, max-file)")
    problems += [f"{n}: publish no host port in production" for n in DATASTORES if prod["services"][n].get("ports")]
    if environment_of(prod["services"]["api"]).get("LOG_LEVEL", "").upper() == "DEBUG":
        problems.append("api: no debug logging in production")
    if problems:
        OPEN_ITEMS.append(f"docker-compose.prod.yml: {problems}")
    KEY_OUTPUTS["production override"] = f"{len(prod['services'])} services, {len(problems)} problems"
if prod and staging:
    smaller = all(
        limits(staging["services"][n])[0] <= limits(prod["services"][n])[0]
        and memory_mib(limits(staging["services"][n])[1]) <= memory_mib(limits(prod["services"][n])[1])
        for n in prod["services"] if n in staging["services"]
    )
    env_files = [str(e) for e in staging["services"]["api"].get("env_file") or []]
    if not staging.get("name") or staging.get("name") == prod.get("name") or not env_files or not smaller:
        OPEN_ITEMS.append("docker-compose.staging.yml: own project name, its env file, limits below production")
    KEY_OUTPUTS["staging override"] = f"project {staging.get('name')}, env_file {env_files}, smaller limits: {smaller}"

# %% [markdown]
# **Shipping it to the plant.** `scripts/edge_deploy.py` puts the base file, the environment's override, its
# env file and the secret files into a **deterministic** tar.gz named by its SHA-256, uploads it resumably
# over SSH (the plant's uplink drops), verifies the checksum on the host, switches a `current` symlink
# atomically and runs `docker compose ... up --detach --wait`. The cell builds the production bundle in a
# temporary folder (with the example env file standing in for `.env.prod`, which is never committed) twice,
# to show that equal inputs give the same release id, and prints what would run on the edge host. Nothing
# connects anywhere.

# %%
import random

sys.path.insert(0, str(REPO / "scripts"))
try:
    import edge_deploy
except ImportError as exc:  # paramiko: pip install -e '.[edge]' (or '.[dev]')
    edge_deploy = None
    print(f"scripts/edge_deploy.py needs {exc.name}: pip install -e '.[edge]'")
if edge_deploy is not None:
    with tempfile.TemporaryDirectory(prefix="notebook03-bundle-") as tmp:
        options = edge_deploy.Options(
            host="edge-host.plant.local", user="deploy", project_root=REPO, env="prod",
            env_file=REPO / ".env.prod.example", include_secrets=False,
        )
        try:
            first = edge_deploy.build_bundle(options, Path(tmp))
            second_dir = Path(tmp) / "again"
            second_dir.mkdir()
            second = edge_deploy.build_bundle(options, second_dir)
        except edge_deploy.DeployError as exc:
            OPEN_ITEMS.append(f"edge bundle: {exc}")
            print("cannot build the bundle yet:", exc)
        else:
            layout = edge_deploy.RemoteLayout(options.remote_dir, first.sha256[:12] + "...")
            files = f"-f docker-compose.yml -f docker-compose.{options.env}.yml"
            compose = f"docker compose --env-file .env.{options.env} {files}"
            print(f"bundle {first.sha256[:16]}... ({first.size} bytes): {', '.join(first.members)}")
            print(f"built twice, same release id: {first.sha256 == second.sha256}")
            print(f"on the host: upload to {layout.partial}, verify, unpack to {layout.release},\n"
                  f"  ln -sfn {layout.release} {layout.current}, then in {layout.current}:\n"
                  f"  {compose} pull --ignore-pull-failures && {compose} up --detach --wait")
            delays = edge_deploy.backoff_delays(options, random.Random(1))
            waits = [round(next(delays), 1) for _ in range(options.attempts - 1)]
            print("retry delays after a dropped link (s):", waits)
            KEY_OUTPUTS["edge bundle"] = f"{first.sha256[:12]}, {len(first.members)} files, reproducible"

# %% [markdown]
# ## References
#
# Prior weeks:
#
# - **Weeks 05-08 (the RAG stack)**: the documents and the index the image bakes in (`data/`) are the corpus
#   of those weeks; a corpus update is a new image or a new data volume, released like code.
# - **Weeks 09-10 (tuned models)**: the fine-tuned model is served by its own GPU container (vLLM or TGI)
#   behind `COPILOT_LLM_BASE_URL`; `Dockerfile.gpu` and `docker-compose.gpu.yml` show the GPU plumbing.
# - Lab 02 (the API and worker this image runs), Lab 04 (the metrics and logs the containers export),
#   Lab 05 (the CI job that builds and scans the image), Lab 06 and Lab 08 (the same image on Cloud Run and
#   Kubernetes).
#
# External documentation:
#
# - Merge Compose files: https://docs.docker.com/compose/how-tos/multiple-compose-files/merge/
# - Multi-stage builds: https://docs.docker.com/build/building/multi-stage/
# - Compose secrets: https://docs.docker.com/compose/how-tos/use-secrets/
# - Build secrets (BuildKit): https://docs.docker.com/build/building/secrets/
# - Compose Specification, services (depends_on, healthcheck, read_only): https://docs.docker.com/reference/compose-file/services/
# - NVIDIA Container Toolkit: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html
# - Trivy: https://trivy.dev/latest/docs/
# - hadolint rules: https://github.com/hadolint/hadolint#rules
# - OWASP Docker Security Cheat Sheet: https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html

# %% [markdown]
# ## Record your progress
#
# The last cell writes this lab's key outputs to `capstone-progress.csv` at the root of your repository
# (one row per lab; running it again replaces the row). `make grade LAB=lab03 PROGRESS=1` adds
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
