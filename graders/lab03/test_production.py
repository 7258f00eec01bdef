"""Lab 03 assignment: the merged production configuration (docker-compose.yml + docker-compose.prod.yml).

Feedback names the service and the key in the merged config (``services.api.read_only``) and the
file line that sets it, or the override file where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graders.lab03 import compose_rules as rules
from graders.lab03.compose_project import ComposeConfig
from graders.lab03.scoring import security_gate
from graders.lab03.sections import HARDENING, LAB
from graders.sdk import Checklist, check


def _each(
    config: ComposeConfig,
    checklist: Checklist,
    names: list[str],
    key: str,
    problem: Callable[[dict[str, Any]], str | None],
) -> None:
    """One requirement per service: ``problem(service)`` returns what is wrong (None when fine)."""
    if not names:  # never pass for want of services: the base file must define them
        checklist.require(
            False,
            f"{config.label} has no service to check `{key}` on; the base file defines the API, the worker, "
            "PostgreSQL and Redis",
            config.environment.override,
        )
    for name in names:
        found = problem(config.services[name])
        checklist.require(
            found is None,
            f"services.{name}.{key} in {config.label}: {found}",
            config.where("services", name, key),
        )


@check(
    points=5, name="Production pulls images pinned by version or digest (never latest)", section=LAB, assignment=True
)
def test_prod_pinned_images(prod_config: ComposeConfig, checklist: Checklist) -> None:
    apps = set(prod_config.app_services())

    def problem(name: str) -> Callable[[dict[str, Any]], str | None]:
        def check_one(service: dict[str, Any]) -> str | None:
            if rules.builds_on_host(service):
                return "still has a build section; production pulls the released image (`build: !reset null`)"
            return rules.unpinned_image(service, own_image=name in apps)

        return check_one

    for name in prod_config.services:
        _each(prod_config, checklist, [name], "image", problem(name))


@check(points=5, name="Production mounts no source code", section=LAB, assignment=True)
def test_prod_no_source_mounts(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def problem(service: dict[str, Any]) -> str | None:
        mounts = rules.source_mounts(service)
        return f"bind-mounts {', '.join(mounts)}; production runs the code baked into the image" if mounts else None

    _each(prod_config, checklist, list(prod_config.services), "volumes", problem)
    security_gate(checklist)


@check(points=3, name="Every production service has a restart policy", section=LAB, assignment=True)
def test_prod_restart_policies(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def problem(service: dict[str, Any]) -> str | None:
        if rules.restart_policy(service):
            return None
        return f"is {service.get('restart', 'not set')!r}; use unless-stopped (or always) so it survives reboots"

    _each(prod_config, checklist, list(prod_config.services), "restart", problem)


@check(points=5, name="Every production service has CPU and memory limits", section=LAB, assignment=True)
def test_prod_resource_limits(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def problem(service: dict[str, Any]) -> str | None:
        memory, cpus = rules.limits(service)
        missing = [k for k, v in (("memory", memory), ("cpus", cpus)) if v is None]
        return f"has no {' and no '.join(missing)} limit under deploy.resources.limits" if missing else None

    _each(prod_config, checklist, list(prod_config.services), "deploy", problem)


@check(
    points=5,
    name="API and worker run with a read-only root filesystem and a /tmp tmpfs",
    section=HARDENING,
    assignment=True,
)
def test_prod_read_only_root(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def read_only(service: dict[str, Any]) -> str | None:
        return None if rules.is_read_only(service) else "is not true; set `read_only: true`"

    def tmpfs(service: dict[str, Any]) -> str | None:
        return None if rules.has_tmp_tmpfs(service) else "has no /tmp entry; a read-only container still needs a tmpfs"

    apps = prod_config.app_services()
    _each(prod_config, checklist, apps, "read_only", read_only)
    _each(prod_config, checklist, apps, "tmpfs", tmpfs)
    security_gate(checklist)


@check(
    points=5,
    name="API and worker run unprivileged: non-root user, no capabilities, no new privileges",
    section=HARDENING,
    assignment=True,
)
def test_prod_least_privilege(prod_config: ComposeConfig, checklist: Checklist) -> None:
    apps = prod_config.app_services()
    _each(
        prod_config,
        checklist,
        apps,
        "user",
        lambda s: 'runs as root; set `user: "10001:10001"`' if rules.runs_as_root(s) else None,
    )
    _each(
        prod_config,
        checklist,
        apps,
        "cap_drop",
        lambda s: None if rules.drops_all_capabilities(s) else "does not drop ALL capabilities",
    )
    _each(
        prod_config,
        checklist,
        apps,
        "security_opt",
        lambda s: None if rules.no_new_privileges(s) else "lacks no-new-privileges:true",
    )
    security_gate(checklist)


@check(points=4, name="No debug settings in production", section=LAB, assignment=True)
def test_prod_no_debug(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def problem(service: dict[str, Any]) -> str | None:
        found = rules.debug_settings(service)
        return f"has debug settings: {', '.join(found)}" if found else None

    _each(prod_config, checklist, list(prod_config.services), "environment", problem)


@check(
    points=5, name="PostgreSQL and Redis are not published on host ports in production", section=LAB, assignment=True
)
def test_prod_private_datastores(prod_config: ComposeConfig, checklist: Checklist) -> None:
    def problem(service: dict[str, Any]) -> str | None:
        ports = rules.published_ports(service)
        if not ports:
            return None
        return (
            f"publishes {', '.join(ports)} on the host; the API and the worker reach it over the compose network, "
            "nothing else should (use `ports: !reset []` if the base file publishes it)"
        )

    _each(prod_config, checklist, prod_config.datastores(), "ports", problem)
    security_gate(checklist)


@check(points=3, name="Production logs are rotated", section=LAB, assignment=True)
def test_prod_log_rotation(prod_config: ComposeConfig, checklist: Checklist) -> None:
    _each(prod_config, checklist, list(prod_config.services), "logging", rules.log_rotation_problem)
