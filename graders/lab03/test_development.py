"""Lab 03 assignment: the local development configuration (docker-compose.yml + docker-compose.override.yml)."""

from __future__ import annotations

from graders.lab03 import compose_rules as rules
from graders.lab03.compose_project import ComposeConfig
from graders.lab03.sections import LAB
from graders.sdk import Checklist, check


@check(
    points=4,
    name="Local development builds from the checkout with live reload and debug logs",
    section=LAB,
    assignment=True,
)
def test_dev_override(dev_config: ComposeConfig, checklist: Checklist) -> None:
    services = dev_config.services
    label = dev_config.label
    checklist.require(bool(dev_config.app_services()), f"{label} has no API or worker service", "docker-compose.yml")
    for name in dev_config.app_services():
        service = services[name]
        checklist.require(
            rules.builds_on_host(service),
            f"services.{name}.build in {label} is missing; development builds the image from this checkout",
            dev_config.where("services", name, "build"),
        )
        checklist.require(
            bool(rules.source_mounts(service)),
            f"services.{name}.volumes in {label} does not mount the source (./src:/app/src:ro) for live reload",
            dev_config.where("services", name, "volumes"),
        )
        level = next((v for k, v in rules.environment(service).items() if rules.LOG_LEVEL_NAME.search(k)), None)
        checklist.require(
            (level or "").lower() == "debug",
            f"services.{name}.environment.LOG_LEVEL in {label} is {level!r}; log at DEBUG while developing",
            dev_config.where("services", name, "environment"),
        )
    apis = [n for n in dev_config.app_services() if not rules.is_worker(n, services[n])]
    for name in apis:
        command = services[name].get("command")
        text = " ".join(map(str, command)) if isinstance(command, list) else str(command or "")
        checklist.require(
            "--reload" in text,
            f"services.{name}.command in {label} does not run uvicorn with --reload",
            dev_config.where("services", name, "command"),
        )
    for name in dev_config.datastores():
        checklist.require(
            rules.loopback_only(services[name]),
            f"services.{name}.ports in {label} publishes {', '.join(rules.published_ports(services[name]))} on every "
            "interface; bind local tools to the loopback interface (127.0.0.1:5432:5432)",
            dev_config.where("services", name, "ports"),
        )
