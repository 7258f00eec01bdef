"""Lab 03 checks of the base Compose stack: schema validity, wiring, health and secrets."""

from __future__ import annotations

import pytest

from graders.lab03 import compose_merge, compose_project, compose_rules, compose_schema, compose_yaml
from graders.lab03.compose_project import ComposeConfig
from graders.lab03.scoring import security_gate
from graders.lab03.sections import COMPOSE, LAB, SECRETS
from graders.sdk import Checklist, Submission, SubmissionFileError, check, skip

# Every compose file the lab asks for; any other docker-compose*.yml present is validated too.
REQUIRED_FILES = (
    compose_project.BASE_FILE,
    *(env.override for env in compose_project.ENVIRONMENTS.values() if env.override),
)


@pytest.fixture(scope="session")
def base_config(submission: Submission) -> ComposeConfig:
    return compose_project.build(submission, compose_project.BASE)


@check(points=3, name="Every compose file is valid against the Compose Specification", section=LAB, assignment=True)
def test_compose_schema(submission: Submission, checklist: Checklist) -> None:
    extra = [p for p in submission.glob("docker-compose*.y*ml") if p not in REQUIRED_FILES]
    try:
        compose_schema.validate({})
    except compose_schema.SchemaUnavailable as exc:
        skip(str(exc))
    for rel in (*REQUIRED_FILES, *extra):
        if not submission.is_file(rel):
            checklist.require(False, f"{rel} is missing: create it (see the lab's deliverables)", rel)
            continue
        try:
            problems = compose_schema.validate(compose_yaml.load(submission, rel))
        except SubmissionFileError as exc:  # YAML syntax, a duplicate key, an alias bomb
            checklist.require(False, str(exc), exc.location or rel)
            continue
        if rel in extra and not problems:
            continue  # optional files (docker-compose.gpu.yml) count only when they are broken
        first = submission.yaml_line(rel, problems[0][0]) if problems else None
        checklist.require(
            not problems,
            f"{rel} does not match the Compose Specification schema: " + "; ".join(msg for _, msg in problems),
            f"{rel}:{first}" if first else rel,
        )


@check(
    points=8,
    name="The base stack wires API, worker, Redis and PostgreSQL with health-gated dependencies",
    section=COMPOSE,
)
def test_compose_stack(base_config: ComposeConfig, checklist: Checklist) -> None:
    services = base_config.services
    base = compose_project.BASE_FILE
    apps = base_config.app_services()
    workers = [n for n in apps if compose_rules.is_worker(n, services[n])]
    images = {n: str(services[n].get("image", "")) for n in base_config.datastores()}
    checklist.require(
        len(apps) >= 2
        and workers
        and any("redis" in i or "valkey" in i for i in images.values())
        and any("postgres" in i for i in images.values()),
        f"{base} needs four services: the API, a worker running `python -m copilot.worker`, Redis and "
        f"PostgreSQL (found: {', '.join(services) or 'none'})",
        base,
    )
    unhealthy = [f"services.{n} {p}" for n, s in services.items() if (p := compose_rules.healthcheck_problem(s))]
    checklist.require(
        not unhealthy,
        f"{base}: every service needs a healthcheck ({'; '.join(unhealthy)})",
        base_config.where("services", unhealthy[0].split()[0].split(".")[1]) if unhealthy else None,
        weight=2,
    )
    ungated = []
    for name in apps:
        depends = services[name].get("depends_on") or {}
        for store in base_config.datastores():
            condition = depends.get(store, {}).get("condition") if isinstance(depends.get(store), dict) else None
            if condition != "service_healthy":
                state = f" is {condition}" if condition else " missing"
                ungated.append(f"services.{name}.depends_on.{store}{state}")
    checklist.require(
        not ungated,
        f"{base}: the API and the worker must start only once the datastores are healthy "
        f"(`depends_on: {{postgres: {{condition: service_healthy}}}}`): {'; '.join(ungated)}",
        base_config.where("services", ungated[0].split(".")[1], "depends_on") if ungated else None,
        weight=2,
    )
    declared = base_config.model.get("volumes") or {}
    unnamed = []
    for name in base_config.datastores():
        mounts = services[name].get("volumes") or []
        if not any(isinstance(v, dict) and v.get("type") == "volume" and v.get("source") in declared for v in mounts):
            unnamed.append(name)
    checklist.require(
        not unnamed,
        f"{base}: keep the data of {', '.join(unnamed)} on a named volume declared under top-level `volumes:`",
        base_config.where("services", unnamed[0]) if unnamed else None,
    )


@check(points=6, name="Secrets come from compose secrets files, never inline environment values", section=SECRETS)
def test_compose_secrets(submission: Submission, base_config: ComposeConfig, checklist: Checklist) -> None:
    inline = []
    for rel in REQUIRED_FILES:
        if not submission.is_file(rel):
            continue
        try:
            doc = compose_yaml.load(submission, rel)
        except SubmissionFileError:  # reported by the schema check
            continue
        for name, raw in compose_rules.mapping(doc.get("services")).items():
            service = compose_merge.canonical_service(compose_yaml.untagged(raw))
            if isinstance(service, dict):
                for var in compose_rules.inline_secrets(service):
                    line = submission.yaml_line(rel, ["services", name, "environment", var])
                    inline.append(f"{rel}:{line} services.{name}.environment.{var}")
    checklist.require(
        not inline,
        "secret values are written into the environment (" + "; ".join(inline) + "); declare them under "
        "top-level `secrets:` with `file: ./secrets/...` and mount them into the service (`secrets: [...]`)",
        inline[0].split()[0] if inline else None,
        weight=2,
    )
    declared = base_config.model.get("secrets") or {}
    services = base_config.services
    without = [n for n in base_config.app_services() if not services[n].get("secrets")]
    checklist.require(
        bool(declared) and not without,
        f"{compose_project.BASE_FILE}: declare the secret files under top-level `secrets:` and mount them into "
        f"the API and the worker" + (f" (no secrets: {', '.join(without)})" if without else ""),
        base_config.where("services", without[0]) if without else compose_project.BASE_FILE,
    )
    for name in base_config.datastores():
        env = compose_rules.environment(services[name])
        if "postgres" in str(services[name].get("image")):
            checklist.require(
                "POSTGRES_PASSWORD_FILE" in env and "POSTGRES_PASSWORD" not in env,
                f"services.{name}: give PostgreSQL its password as a file (POSTGRES_PASSWORD_FILE: "
                "/run/secrets/postgres_password) instead of POSTGRES_PASSWORD",
                base_config.where("services", name, "environment"),
            )
    security_gate(checklist)
