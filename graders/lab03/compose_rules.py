"""Small predicates over one service of a merged (canonical) Compose model.

Each answers one question the production, staging and development checks ask, and returns the
offending detail (or None), so that checks stay a list of readable requirements.
"""

from __future__ import annotations

import re
from typing import Any

from graders.lab03.compose_project import relative_source

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I)
SECRET_NAME_ALLOWED = re.compile(r"(_FILE|_PATH|_DIR|_ID)$", re.I)
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]+:[^/@\s]+@", re.I)
RELEASE_TAG = re.compile(r"^v?\d+(\.\d+)+([-+.][0-9A-Za-z.-]+)?$")
RESTART_POLICIES = ("always", "unless-stopped", "on-failure")
DEBUG_SWITCH = re.compile(r"(^|_)DEBUG$", re.I)
LOG_LEVEL_NAME = re.compile(r"LOG_?LEVEL$", re.I)
ENVIRONMENT_NAME = re.compile(r"(^|_)(ENV|ENVIRONMENT)$", re.I)
DEBUG_COMMAND = re.compile(r"(--reload\b|--debug\b|debugpy|--log-level[= ](debug|trace)\b|\bpdb\b)", re.I)
ROTATING_DRIVERS = ("local",)
REMOTE_DRIVERS = ("syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "gcplogs", "logentries", "etwlogs")
TRUE_WORDS = ("1", "true", "yes", "on")
MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (malformed input is the schema check's job)."""
    return value if isinstance(value, dict) else {}


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment")
    return {str(k): (None if v is None else str(v)) for k, v in env.items()} if isinstance(env, dict) else {}


def inline_secrets(service: dict[str, Any]) -> list[str]:
    """Environment variables that carry a secret value instead of pointing at a secret file."""
    found = []
    for name, value in environment(service).items():
        if not value or value.startswith("/run/secrets/"):
            continue
        if (SECRET_NAME.search(name) and not SECRET_NAME_ALLOWED.search(name)) or URL_CREDENTIALS.match(value):
            found.append(name)
    return found


def image_reference(image: str) -> tuple[str, str | None, str | None]:
    """``registry/name:tag@digest`` -> (name, tag, digest)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = name[: len(name) - len(tag) - 1]
    return name, tag or None, digest or None


def unpinned_image(service: dict[str, Any], own_image: bool) -> str | None:
    """Why the service's image is not pinned (None when it is)."""
    image = service.get("image")
    if not image:
        return "has no image (production pulls a published image instead of building one)"
    _, tag, digest = image_reference(str(image))
    if digest:
        return None
    if tag is None:
        return f"uses {image!r} without a tag, which means :latest"
    if tag == "latest":
        return f"uses {image!r}; :latest changes under you, pin a release tag or a digest"
    if own_image and not RELEASE_TAG.match(tag):
        return f"uses {image!r}; pin the Copilot image to a release version (1.0.0) or a digest, not {tag!r}"
    return None


def builds_on_host(service: dict[str, Any]) -> bool:
    return bool(service.get("build"))


def source_mounts(service: dict[str, Any]) -> list[str]:
    """Bind mounts of the project's own files (``./src:/app/src``)."""
    found = []
    for volume in service.get("volumes") or []:
        if not isinstance(volume, dict) or volume.get("type") != "bind":
            continue
        source = relative_source(str(volume.get("source", "")))
        if source == "." or source.startswith(("./", "../")):
            found.append(f"{volume.get('source')}:{volume.get('target')}")
    return found


def restart_policy(service: dict[str, Any]) -> str | None:
    restart = service.get("restart")
    if isinstance(restart, str) and restart.split(":", 1)[0] in RESTART_POLICIES:
        return restart
    policy = mapping(mapping(service.get("deploy")).get("restart_policy"))
    if policy and policy.get("condition", "any") in ("any", "on-failure"):
        return f"deploy.restart_policy.condition={policy.get('condition', 'any')}"
    return None


def memory_bytes(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in MEMORY_UNITS:
        return None
    return int(float(match.group(1)) * MEMORY_UNITS[match.group(2).lower()])


def cpus(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def limits(service: dict[str, Any]) -> tuple[int | None, float | None]:
    """(memory in bytes, cpus) from deploy.resources.limits, or the legacy mem_limit/cpus keys."""
    limit = mapping(mapping(mapping(service.get("deploy")).get("resources")).get("limits"))
    memory = memory_bytes(limit.get("memory", service.get("mem_limit")))
    return memory, cpus(limit.get("cpus", service.get("cpus")))


def has_tmp_tmpfs(service: dict[str, Any]) -> bool:
    for entry in service.get("tmpfs") or []:
        if str(entry).split(":", 1)[0].rstrip("/") == "/tmp":
            return True
    tmpfs_volumes = [v for v in service.get("volumes") or [] if isinstance(v, dict) and v.get("type") == "tmpfs"]
    return any(str(v.get("target")).rstrip("/") == "/tmp" for v in tmpfs_volumes)


def is_read_only(service: dict[str, Any]) -> bool:
    return str(service.get("read_only")).lower() in TRUE_WORDS


def runs_as_root(service: dict[str, Any]) -> bool:
    user = str(service.get("user") or "").split(":", 1)[0].strip()
    return user in ("", "root", "0")


def drops_all_capabilities(service: dict[str, Any]) -> bool:
    return any(str(c).upper() in ("ALL", "CAP_ALL") for c in service.get("cap_drop") or [])


def no_new_privileges(service: dict[str, Any]) -> bool:
    for option in service.get("security_opt") or []:
        name, _, value = str(option).replace("=", ":").partition(":")
        if name == "no-new-privileges" and (value == "" or value.lower() == "true"):
            return True
    return False


def debug_settings(service: dict[str, Any]) -> list[str]:
    """Debug switches, debug log levels, development mode and reloaders in a service."""
    found = []
    for name, value in environment(service).items():
        text = (value or "").strip().lower()
        debug_switch = DEBUG_SWITCH.search(name) and text in TRUE_WORDS
        debug_level = LOG_LEVEL_NAME.search(name) and text in ("debug", "trace")
        development = ENVIRONMENT_NAME.search(name) and text in ("development", "dev", "local")
        if debug_switch or debug_level or development:
            found.append(f"environment.{name}={value}")
    for key in ("command", "entrypoint"):
        value = service.get(key)
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value or "")
        match = DEBUG_COMMAND.search(text)
        if match:
            found.append(f"{key} runs with {match.group(0)}")
    return found


def log_rotation_problem(service: dict[str, Any]) -> str | None:
    logging = mapping(service.get("logging"))
    driver = logging.get("driver") or "json-file"
    options = mapping(logging.get("options"))
    if driver in ROTATING_DRIVERS or driver in REMOTE_DRIVERS:
        return None
    if driver == "none":
        return "logging.driver is none: production logs are lost"
    if driver == "json-file" and options.get("max-size") and options.get("max-file"):
        return None
    if driver == "json-file":
        return "logs to json-file without logging.options max-size and max-file: the log grows until the disk is full"
    return f"logging.driver {driver!r} is not one the grader knows to rotate; use json-file with max-size and max-file"


def published_ports(service: dict[str, Any]) -> list[str]:
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            host = f"{port['host_ip']}:" if port.get("host_ip") else ""
            found.append(f"{host}{port.get('published') or '(random)'}->{port.get('target')}")
        else:
            found.append(str(port))
    return found


def loopback_only(service: dict[str, Any]) -> bool:
    return all(isinstance(p, dict) and p.get("host_ip") in ("127.0.0.1", "::1") for p in service.get("ports") or [])


def healthcheck_problem(service: dict[str, Any]) -> str | None:
    health = service.get("healthcheck")
    if not isinstance(health, dict) or not health:
        return "has no healthcheck"
    test = health.get("test")
    if health.get("disable") is True or (isinstance(test, list) and test[:1] == ["NONE"]):
        return "disables its healthcheck"
    if not test:
        return "has a healthcheck without a test"
    return None


def is_worker(name: str, service: dict[str, Any]) -> bool:
    command = service.get("command")
    text = " ".join(map(str, command)) if isinstance(command, list) else str(command or "")
    return "worker" in name.lower() or "copilot.worker" in text
