"""The effective Compose configuration of one environment (development, staging, production).

An environment is the base file plus its override file, interpolated with the variables of its
env file, exactly as ``docker compose --env-file E -f docker-compose.yml -f OVERRIDE config`` would
print it. When a Docker CLI with the compose plugin is installed, that command produces the model;
otherwise the documented merge rules (:mod:`graders.lab03.compose_merge`) do, and the feedback says
which one was used.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graders.lab03 import compose_merge, compose_yaml
from graders.sdk import fail, find_tool, run_tool
from graders.sdk.submission import Submission

BASE_FILE = "docker-compose.yml"
DATASTORE_IMAGES = ("postgres", "redis", "valkey", "mysql", "mariadb", "mongo")
BUILTIN_ENGINE = "the Compose merge rules (no Docker CLI with the compose plugin where the grader ran)"
DOCKER_ENGINE = "docker compose config"


@dataclass(frozen=True)
class Environment:
    name: str
    override: str | None
    env_files: tuple[str, ...]  # the first that exists is the --env-file; the last is the fallback

    @property
    def files(self) -> tuple[str, ...]:
        return (BASE_FILE, self.override) if self.override else (BASE_FILE,)


BASE = Environment("base", None, (".env.example",))
ENVIRONMENTS = {
    "development": Environment("development", "docker-compose.override.yml", (".env.example",)),
    "staging": Environment("staging", "docker-compose.staging.yml", (".env.staging.example", ".env.example")),
    "production": Environment("production", "docker-compose.prod.yml", (".env.prod.example", ".env.example")),
}


@dataclass
class ComposeConfig:
    """The merged model of one environment, and what is needed to point feedback at a file line."""

    environment: Environment
    model: dict[str, Any]
    raw: dict[str, dict[str, Any]]  # file -> its document as written (for locating keys)
    env_file: str | None
    engine: str
    submission: Submission
    unset: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.environment.override is None:
            return BASE_FILE
        return f"the merged {self.environment.name} config ({' + '.join(self.environment.files)})"

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services = self.model.get("services")
        return {k: v for k, v in services.items() if isinstance(v, dict)} if isinstance(services, dict) else {}

    def datastores(self) -> list[str]:
        return [name for name, svc in self.services.items() if is_datastore(svc)]

    def app_services(self) -> list[str]:
        return [name for name, svc in self.services.items() if not is_datastore(svc)]

    def override_services(self) -> dict[str, Any]:
        if self.environment.override is None:
            return {}
        services = self.raw.get(self.environment.override, {}).get("services")
        return services if isinstance(services, dict) else {}

    def declared(self, *path: str) -> Any:
        """The value at ``path`` as the files write it (the last file wins), whatever engine merged them.

        For keys an engine may normalise away: ``docker compose config`` always prints a project
        ``name`` (the folder's when none is set) and folds ``env_file`` into ``environment``.
        """
        for rel in reversed(self.environment.files):
            node: Any = self.raw.get(rel)
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                return compose_yaml.untagged(node)
        return None

    def env_files(self, service: str) -> list[str]:
        """The ``env_file`` paths the files give ``service`` (appended across files, as Compose does)."""
        paths: list[str] = []
        for rel in self.environment.files:
            services = self.raw.get(rel, {}).get("services")
            raw = services.get(service) if isinstance(services, dict) else None
            if isinstance(raw, dict) and raw.get("env_file") is not None:
                entries = compose_merge.canonical_service({"env_file": compose_yaml.untagged(raw["env_file"])})
                paths += [str(e.get("path")) for e in entries["env_file"] if isinstance(e, dict)]
        return paths

    def where(self, *path: str | int) -> str:
        """``file:line`` of the last file that sets ``path`` (or its nearest parent)."""
        for rel in reversed(self.environment.files):
            if _has_path(self.raw.get(rel), path):
                line = self.submission.yaml_line(rel, list(path))
                return f"{rel}:{line}" if line else rel
        if len(path) >= 2 and path[0] == "services":
            for rel in reversed(self.environment.files):
                if _has_path(self.raw.get(rel), path[:2]):
                    line = self.submission.yaml_line(rel, list(path[:2]))
                    return f"{rel}:{line}" if line else rel
        return self.environment.override or BASE_FILE

    def key(self, *path: str | int) -> str:
        return ".".join(str(p) for p in path)


def _has_path(doc: Any, path: tuple[str | int, ...]) -> bool:
    node = doc
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def is_datastore(service: dict[str, Any]) -> bool:
    image = str(service.get("image") or "").rsplit("/", 1)[-1]
    return image.split(":", 1)[0].split("@", 1)[0] in DATASTORE_IMAGES


def env_values(submission: Submission, environment: Environment) -> tuple[str | None, dict[str, str]]:
    for rel in environment.env_files:
        if submission.is_file(rel):
            return rel, compose_yaml.parse_env_file(submission.read_text(rel))
    return None, {}


@cache
def docker_compose_available() -> bool:
    docker = find_tool("docker")
    if docker is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        result = run_tool([docker, "compose", "version"], cwd=tmp, timeout=20)
    return result.ok


def load_documents(submission: Submission, files: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    docs = {}
    for rel in files:
        if not submission.is_file(rel):
            fail(f"{rel} is missing: create it (the lab's deliverables list what it must contain)", rel)
        docs[rel] = compose_yaml.load(submission, rel)
    return docs


def build(submission: Submission, environment: Environment) -> ComposeConfig:
    """Merge and interpolate one environment; a problem fails the calling check with feedback."""
    raw = load_documents(submission, environment.files)
    env_file, values = env_values(submission, environment)
    if docker_compose_available():
        model = _docker_config(submission, environment, env_file)
        return ComposeConfig(environment, model, raw, env_file, DOCKER_ENGINE, submission)
    interpolator = compose_yaml.Interpolator(values)
    interpolated = []
    for rel, doc in raw.items():
        try:
            interpolated.append(interpolator.apply(doc))
        except compose_yaml.InterpolationError as exc:
            source = env_file or "an env file"
            fail(f"{rel}: {exc} (the grader interpolates with {source}, as `--env-file` would)", rel)
        except RecursionError:
            fail(f"{rel}: variables are nested too deeply to interpolate", rel)
    model = compose_merge.merge(interpolated)
    return ComposeConfig(environment, model, raw, env_file, BUILTIN_ENGINE, submission, unset=list(interpolator.unset))


def _docker_config(submission: Submission, environment: Environment, env_file: str | None) -> dict[str, Any]:
    """``docker compose config`` over a scratch copy where each ``*.example`` env file also exists
    under its real name (``env_file: .env.staging`` must exist for Compose to load the project)."""
    docker = find_tool("docker")
    assert docker is not None
    with tempfile.TemporaryDirectory(prefix="capstone-compose-") as tmp:
        project = Path(tmp)
        for rel in submission.glob("*"):
            if rel.startswith((".env", "docker-compose")) and submission.is_file(rel):
                data = submission.read_bytes(rel)
                (project / rel).write_bytes(data)
                if rel.endswith(".example") and not (project / rel.removesuffix(".example")).exists():
                    (project / rel.removesuffix(".example")).write_bytes(data)
        for folder in ("src", "common", "secrets"):
            (project / folder).mkdir(exist_ok=True)
        command = [docker, "compose", "--project-directory", str(project)]
        for rel in environment.files:
            command += ["-f", str(project / rel)]
        if env_file:
            command += ["--env-file", str(project / env_file)]
        command += ["config", "--format", "json", "--no-path-resolution"]
        result = run_tool(command, cwd=project, timeout=60)
        if not result.ok:
            fail(f"`docker compose config` rejected {' + '.join(environment.files)}:\n{result.tail(8)}")
        try:
            model: dict[str, Any] = json.loads(result.stdout)
        except json.JSONDecodeError:
            fail("`docker compose config --format json` printed something that is not JSON")
        return model


def relative_source(source: str) -> str:
    """A bind-mount source as a project-relative path (``src`` -> ``./src``), for comparisons."""
    text = source.replace("\\", "/").rstrip("/") or "/"
    if text in (".", "./"):
        return "."
    return text if text.startswith(("./", "/", "~", "../")) else "./" + text
