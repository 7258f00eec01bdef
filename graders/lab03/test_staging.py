"""Lab 03 assignment: the merged staging configuration (docker-compose.yml + docker-compose.staging.yml)."""

from __future__ import annotations

from graders.lab03 import compose_rules as rules
from graders.lab03.compose_project import BASE_FILE, ComposeConfig
from graders.lab03.sections import LAB
from graders.sdk import Checklist, Submission, check

STAGING_ENV_EXAMPLE = ".env.staging.example"


def _project_name(config: ComposeConfig) -> str | None:
    name = config.declared("name")
    return str(name) if name else None


@check(points=6, name="Staging is its own project with its own env file", section=LAB, assignment=True)
def test_staging_isolated(
    submission: Submission, staging_config: ComposeConfig, prod_config: ComposeConfig, checklist: Checklist
) -> None:
    override = staging_config.environment.override
    staging_name = _project_name(staging_config)
    prod_name = _project_name(prod_config)
    checklist.require(
        staging_name is not None,
        f"name in {staging_config.label} is not set; give staging a project name of its own (`name: copilot-staging`) "
        "so its containers, networks and volumes never collide with production's",
        staging_config.where("name"),
    )
    if staging_name is not None:
        checklist.require(
            staging_name != prod_name,
            f"name in {staging_config.label} is {staging_name!r}, the same as production's: a staging deploy on the "
            "same host would replace the production containers and share its volumes",
            staging_config.where("name"),
            weight=2,
        )
    for name in staging_config.app_services():
        files = staging_config.env_files(name)
        checklist.require(
            any("staging" in f for f in files),
            f"services.{name}.env_file in {staging_config.label} does not load a staging env file "
            f"(found: {', '.join(files) or 'none'}); add `env_file: [.env.staging]` in {override}",
            staging_config.where("services", name, "env_file"),
        )
    checklist.require(
        submission.is_file(STAGING_ENV_EXAMPLE),
        f"{STAGING_ENV_EXAMPLE} is missing: document the staging variables there (the real .env.staging is never "
        "committed)",
        STAGING_ENV_EXAMPLE,
    )


@check(points=3, name="Staging runs with smaller resource limits than production", section=LAB, assignment=True)
def test_staging_smaller_limits(
    staging_config: ComposeConfig, prod_config: ComposeConfig, checklist: Checklist
) -> None:
    for name in staging_config.app_services():
        memory, cpus = rules.limits(staging_config.services[name])
        prod_memory, prod_cpus = rules.limits(prod_config.services.get(name, {}))
        where = staging_config.where("services", name, "deploy")
        key = f"services.{name}.deploy.resources.limits in {staging_config.label}"
        if memory is None or cpus is None:
            checklist.require(False, f"{key}: set both memory and cpus limits", where)
            continue
        if prod_memory is None or prod_cpus is None:
            checklist.require(False, f"{key}: production has no limits for {name} to compare with", where)
            continue
        larger = memory > prod_memory or cpus > prod_cpus
        checklist.require(
            not larger and (memory < prod_memory or cpus < prod_cpus),
            f"{key}: memory {memory / 2**20:.0f} MiB and {cpus:g} cpus must be smaller than production's "
            f"({prod_memory / 2**20:.0f} MiB, {prod_cpus:g} cpus), never larger",
            where,
        )
    if not staging_config.app_services():
        checklist.require(False, f"{BASE_FILE} defines no API or worker service to limit")
