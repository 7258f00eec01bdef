"""The Compose merge rules of the lab03 grader, tested against the cases the documentation spells out.

Sources: the Compose Specification's "Merge and override" (compose-spec 13-merge.md), Docker's
"Merge Compose files" how-to (docs.docker.com/compose/how-tos/multiple-compose-files/merge/) and
the variable interpolation reference. Each case is the documented input files and result; both
sides are compared in canonical (long) form, which is what `docker compose config` prints.
The reference's three environments are compared with recorded `docker compose config` outputs
(tests/fixtures/compose_config), and with Docker's own output wherever it is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graders.lab03 import compose_merge, compose_project, compose_yaml
from graders.sdk import CheckFailed
from graders.sdk.submission import Submission, SubmissionFileError

REFERENCE = Path(__file__).resolve().parents[2] / "reference_solution"


def _merge(*texts: str) -> dict[str, Any]:
    return compose_merge.merge([compose_yaml.parse(t, f"file{i}.yml") or {} for i, t in enumerate(texts)])


def _expect(text: str) -> dict[str, Any]:
    return compose_merge.canonical(compose_yaml.parse(text, "expected.yml"))


def _service(model: dict[str, Any], name: str = "foo") -> dict[str, Any]:
    return model["services"][name]


# -- compose-spec 13-merge.md -------------------------------------------------------------------------
SPEC_CASES = {
    "mapping": (
        "services:\n  foo:\n    key1: value1\n    key2: value2\n",
        "services:\n  foo:\n    key2: VALUE\n    key3: value3\n",
        "services:\n  foo:\n    key1: value1\n    key2: VALUE\n    key3: value3\n",
    ),
    "sequence": (
        "services:\n  foo:\n    DNS:\n      - 1.1.1.1\n",
        "services:\n  foo:\n    DNS:\n      - 8.8.8.8\n",
        "services:\n  foo:\n    DNS:\n      - 1.1.1.1\n      - 8.8.8.8\n",
    ),
    "shell-commands": (
        'services:\n  foo:\n    command: ["echo", "foo"]\n',
        'services:\n  foo:\n    command: ["echo", "bar"]\n',
        'services:\n  foo:\n    command: ["echo", "bar"]\n',
    ),
    "unique-resources": (
        "services:\n  foo:\n    volumes:\n      - foo:/work\n",
        "services:\n  foo:\n    volumes:\n      - bar:/work\n",
        "services:\n  foo:\n    volumes:\n      - bar:/work\n",
    ),
    "reset-value": (
        'services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n    environment:\n      FOO: BAR\n',
        "services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n",
        "services:\n  app:\n    image: myapp\n    environment: {}\n",
    ),
    "replace-value": (
        'services:\n  app:\n    image: myapp\n    ports:\n      - "8080:80"\n',
        'services:\n  app:\n    ports: !override\n      - "8443:443"\n',
        'services:\n  app:\n    image: myapp\n    ports:\n      - "8443:443"\n',
    ),
}


@pytest.mark.parametrize("case", SPEC_CASES, ids=list(SPEC_CASES))
def test_compose_spec_merge_cases(case: str) -> None:
    base, override, expected = SPEC_CASES[case]
    assert _merge(base, override) == _expect(expected)


# -- docs.docker.com "Merge Compose files" -----------------------------------------------------------
DOCS_CASES = {
    "single-value-options-replace": (
        "services:\n  myservice:\n    command: python app.py\n    image: a\n    mem_limit: 1g\n",
        "services:\n  myservice:\n    command: python otherapp.py\n    image: b\n    mem_limit: 2g\n",
        "services:\n  myservice:\n    command: python otherapp.py\n    image: b\n    mem_limit: 2g\n",
    ),
    "multi-value-options-concatenate": (
        'services:\n  myservice:\n    expose:\n      - "3000"\n',
        'services:\n  myservice:\n    expose:\n      - "4000"\n      - "5000"\n',
        'services:\n  myservice:\n    expose:\n      - "3000"\n      - "4000"\n      - "5000"\n',
    ),
    "environment-merged-by-name": (
        "services:\n  myservice:\n    environment:\n      - FOO=original\n      - BAR=original\n",
        "services:\n  myservice:\n    environment:\n      - BAR=local\n      - BAZ=local\n",
        "services:\n  myservice:\n    environment:\n      - FOO=original\n      - BAR=local\n      - BAZ=local\n",
    ),
    "volumes-merged-by-mount-path": (
        "services:\n  myservice:\n    volumes:\n      - ./original:/foo\n      - ./original:/bar\n",
        "services:\n  myservice:\n    volumes:\n      - ./local:/bar\n      - ./local:/baz\n",
        "services:\n  myservice:\n    volumes:\n      - ./original:/foo\n      - ./local:/bar\n      - ./local:/baz\n",
    ),
    "admin-file-adds-environment": (
        'services:\n  webapp:\n    image: examples/web\n    ports:\n      - "8000:8000"\n'
        '    volumes:\n      - "/data"\n',
        "services:\n  webapp:\n    environment:\n      - DEBUG=1\n",
        'services:\n  webapp:\n    image: examples/web\n    ports:\n      - "8000:8000"\n'
        '    volumes:\n      - "/data"\n    environment:\n      - DEBUG=1\n',
    ),
}


@pytest.mark.parametrize("case", DOCS_CASES, ids=list(DOCS_CASES))
def test_docker_docs_merge_cases(case: str) -> None:
    base, override, expected = DOCS_CASES[case]
    assert _merge(base, override) == _expect(expected)


DOCS_EXAMPLE_BASE = """
services:
  web:
    image: example/my_web_app:latest
    depends_on:
      - db
      - cache
  db:
    image: postgres:18
  cache:
    image: redis:latest
"""
DOCS_EXAMPLE_OVERRIDE = """
services:
  web:
    build: .
    volumes:
      - '.:/code'
    ports:
      - 8883:80
    environment:
      DEBUG: 'true'
  db:
    command: '-d'
    ports:
     - 5432:5432
  cache:
    ports:
      - 6379:6379
"""
DOCS_EXAMPLE_PROD = """
services:
  web:
    ports:
      - 80:80
    environment:
      PRODUCTION: 'true'
  cache:
    environment:
      TTL: '500'
"""


def test_docs_example_development_and_production() -> None:
    dev = _merge(DOCS_EXAMPLE_BASE, DOCS_EXAMPLE_OVERRIDE)
    assert _service(dev, "web")["build"] == {"context": "."}
    assert [v["source"] for v in _service(dev, "web")["volumes"]] == ["."]
    assert _service(dev, "db")["command"] == "-d"
    prod = _merge(DOCS_EXAMPLE_BASE, DOCS_EXAMPLE_PROD)
    web = _service(prod, "web")
    assert "build" not in web and "volumes" not in web  # the dev override is not part of production
    assert web["ports"] == [{"target": 80, "published": "80", "protocol": "tcp", "mode": "ingress"}]
    assert web["environment"] == {"PRODUCTION": "true"}
    assert web["depends_on"] == {
        "db": {"condition": "service_started", "required": True},
        "cache": {"condition": "service_started", "required": True},
    }
    assert _service(prod, "cache")["environment"] == {"TTL": "500"}
    assert "ports" not in _service(prod, "db")


# -- compose-go behaviour the lab relies on ------------------------------------------------------------
def test_healthcheck_test_is_replaced_and_other_keys_merged() -> None:
    merged = _merge(
        "services:\n  foo:\n    healthcheck:\n      test: [CMD, a]\n      interval: 10s\n",
        "services:\n  foo:\n    healthcheck:\n      test: curl -f localhost\n",
    )
    assert _service(merged)["healthcheck"] == {"test": ["CMD-SHELL", "curl -f localhost"], "interval": "10s"}


def test_depends_on_list_in_an_override_resets_the_condition() -> None:
    merged = _merge(
        "services:\n  api:\n    depends_on:\n      db:\n        condition: service_healthy\n",
        "services:\n  api:\n    depends_on: [db]\n",
    )
    assert _service(merged, "api")["depends_on"]["db"]["condition"] == "service_started"


def test_logging_options_merge_only_with_the_same_driver() -> None:
    base = "services:\n  foo:\n    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n"
    same = _merge(base, "services:\n  foo:\n    logging:\n      options:\n        max-file: '3'\n")
    assert _service(same)["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
    other = _merge(base, "services:\n  foo:\n    logging:\n      driver: syslog\n")
    assert _service(other)["logging"] == {"driver": "syslog"}


def test_ports_are_unique_by_binding_in_short_and_long_syntax() -> None:
    merged = _merge(
        'services:\n  foo:\n    ports: ["8080:80", "127.0.0.1:9000:9000/udp"]\n',
        'services:\n  foo:\n    ports:\n      - target: 80\n        published: "8080"\n      - "9090:90"\n',
    )
    assert [(p.get("host_ip"), p.get("published"), p["target"], p["protocol"]) for p in _service(merged)["ports"]] == [
        (None, "8080", 80, "tcp"),
        ("127.0.0.1", "9000", 9000, "udp"),
        (None, "9090", 90, "tcp"),
    ]


def test_port_ranges_expand_like_compose() -> None:
    ports = compose_merge.parse_port("9090-9091:8080-8081")
    assert [(p["published"], p["target"]) for p in ports] == [("9090", 8080), ("9091", 8081)]


def test_secrets_are_unique_by_target() -> None:
    merged = _merge(
        "services:\n  foo:\n    secrets: [db_url, {source: key, target: /run/secrets/signing}]\n",
        "services:\n  foo:\n    secrets: [{source: db_url_v2, target: /run/secrets/db_url}, other]\n",
    )
    assert [s["source"] for s in _service(merged)["secrets"]] == ["db_url_v2", "key", "other"]


def test_an_explicit_null_keeps_the_earlier_value() -> None:
    merged = _merge("services:\n  foo:\n    image: a:1\n", "services:\n  foo:\n    image: null\n")
    assert _service(merged)["image"] == "a:1"


def test_reset_removes_a_whole_service_attribute_and_override_replaces_a_mapping() -> None:
    merged = _merge(
        "services:\n  foo:\n    build: .\n    environment: {A: '1', B: '2'}\n",
        "services:\n  foo:\n    build: !reset null\n    environment: !override {C: '3'}\n",
    )
    assert _service(merged) == {"environment": {"C": "3"}}


def test_three_files_merge_in_order() -> None:
    merged = _merge(
        "services:\n  foo:\n    image: a:1\n",
        "services:\n  foo:\n    image: a:2\n    tmpfs: /tmp\n",
        "services:\n  foo:\n    image: a:3\n    tmpfs: [/run, /tmp]\n",
    )
    assert _service(merged)["image"] == "a:3"
    assert _service(merged)["tmpfs"] == ["/tmp", "/run"]


def test_yaml_anchors_and_merge_keys_are_expanded() -> None:
    merged = _merge(
        "x-common: &common\n  restart: always\n  read_only: true\nservices:\n  foo:\n    <<: *common\n    image: a:1\n"
    )
    assert _service(merged) == {"restart": "always", "read_only": True, "image": "a:1"}


# -- reading files -----------------------------------------------------------------------------------
def test_duplicate_keys_are_an_error_with_the_line() -> None:
    with pytest.raises(SubmissionFileError) as error:
        compose_yaml.parse("services:\n  foo:\n    image: a\n    image: b\n", "docker-compose.prod.yml")
    assert error.value.line == 4 and "defined twice" in str(error.value)


def test_short_volume_syntax() -> None:
    assert compose_merge.parse_volume("./src:/app/src:ro") == {
        "type": "bind",
        "source": "./src",
        "target": "/app/src",
        "read_only": True,
        "bind": {"create_host_path": True},
    }
    assert compose_merge.parse_volume("pgdata:/var/lib/postgresql/data") == {
        "type": "volume",
        "source": "pgdata",
        "target": "/var/lib/postgresql/data",
    }
    assert compose_merge.parse_volume("/data") == {"type": "volume", "target": "/data"}


# -- interpolation (docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/) ------
@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${TAG}", {"TAG": "1.0"}, "1.0"),
        ("$TAG-x", {"TAG": "1.0"}, "1.0-x"),
        ("${TAG:-dev}", {}, "dev"),
        ("${TAG:-dev}", {"TAG": ""}, "dev"),
        ("${TAG-dev}", {"TAG": ""}, ""),
        ("${TAG-dev}", {}, "dev"),
        ("${TAG:+set}", {"TAG": "x"}, "set"),
        ("${TAG:+set}", {"TAG": ""}, ""),
        ("${TAG+set}", {"TAG": ""}, "set"),
        ("${A:-${B:-deep}}", {}, "deep"),
        ("$$HOME and $$", {}, "$HOME and $"),
        ("cost: $5", {}, "cost: $5"),
    ],
)
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert compose_yaml.Interpolator(env).substitute(text) == expected


def test_required_variable_without_value_is_an_error() -> None:
    interpolator = compose_yaml.Interpolator({})
    with pytest.raises(compose_yaml.InterpolationError, match=r"TAG.*set a release tag"):
        interpolator.substitute("api:${TAG:?set a release tag}")


def test_unset_variables_become_empty_and_are_recorded() -> None:
    interpolator = compose_yaml.Interpolator({})
    assert interpolator.substitute("${MISSING}x") == "x"
    assert interpolator.unset == ["MISSING"]


def test_env_file_parsing() -> None:
    text = "# comment\nexport A=1\nB='two words'\nC=\"q\"\nD=plain # trailing\nnot a line\n"
    assert compose_yaml.parse_env_file(text) == {"A": "1", "B": "two words", "C": "q", "D": "plain"}


# -- against `docker compose config`: outputs recorded for a copy of the reference's files ---------------
RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "compose_config"
# Sequences whose order the merge does not define (entries are matched by target or name).
UNORDERED = ("ports", "volumes", "secrets")


def _docker_compose() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    return docker if probe.returncode == 0 else None


def _as_recorded(model: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """``model`` cut to the keys ``recorded`` holds, in one form: unordered sequences sorted, and an
    empty ``volume: {}`` (Compose's default volume options) dropped."""

    def entry(item: Any) -> Any:
        if isinstance(item, dict) and item.get("volume") == {}:
            item = {k: v for k, v in item.items() if k != "volume"}
        return item

    out: dict[str, Any] = {key: model.get(key) for key in recorded if key != "services"}
    out["services"] = {}
    for name, service in (model.get("services") or {}).items():
        wanted = recorded["services"].get(name, {})
        out["services"][name] = {
            key: sorted((entry(v) for v in service[key]), key=lambda v: json.dumps(v, sort_keys=True))
            if key in UNORDERED and isinstance(service.get(key), list)
            else service.get(key)
            for key in wanted
        }
    return out


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_merge_rules_give_the_recorded_docker_compose_config(
    environment: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The merge rules on the recorded input files equal `docker compose config` on them (see the
    fixture's README: the outputs were written from Compose's documented semantics); where Docker with
    the compose plugin is installed, its own output is held to the same record, so the record stays true."""
    recorded = json.loads((RECORDED / f"{environment}.json").read_text(encoding="utf-8"))
    env = compose_project.ENVIRONMENTS[environment]
    monkeypatch.setattr(compose_project, "docker_compose_available", lambda: False)
    config = compose_project.build(Submission(RECORDED / "input"), env)
    assert config.engine == compose_project.BUILTIN_ENGINE and not config.unset
    assert _as_recorded(config.model, recorded) == _as_recorded(recorded, recorded)
    docker = _docker_compose()
    if docker is None:
        return
    project = tmp_path / "project"
    shutil.copytree(RECORDED / "input", project)
    for example in project.glob(".env*.example"):
        example.with_name(example.name.removesuffix(".example")).write_bytes(example.read_bytes())
    command = [docker, "compose", "--project-directory", str(project), "--env-file", str(project / env.env_files[0])]
    for rel in env.files:
        command += ["-f", str(project / rel)]
    result = subprocess.run(
        [*command, "config", "--format", "json", "--no-path-resolution"], capture_output=True, text=True, check=True
    )
    assert _as_recorded(json.loads(result.stdout), recorded) == _as_recorded(recorded, recorded)


def _meaningful_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_recorded_inputs_are_the_reference_s_compose_files() -> None:
    """The record was taken from the reference's files (marker comments aside): while they agree, the
    reference's merged configs are known too; when the reference changes, record its new files."""
    for source in sorted((RECORDED / "input").iterdir()):
        assert _meaningful_lines(source) == _meaningful_lines(REFERENCE / source.name), (
            f"reference_solution/{source.name} changed: copy it to {source.relative_to(RECORDED.parents[1])} "
            "and record the outputs again (tests/fixtures/compose_config/README.md)"
        )


# -- the `docker compose config` path, with a stand-in CLI (no Docker engine is needed for `config`) ------
@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[int, str], Path]:
    """Install a `docker` that records its arguments and prints ``output`` with exit status ``code``."""

    def install(code: int, output: str) -> Path:
        log = tmp_path / "docker-args.log"
        script = tmp_path / "docker"
        script.write_text(
            "#!/bin/sh\n"
            f'for a in "$@"; do echo "$a"; done > {log}\n'
            'ls -a "$3" >> ' + str(log) + "\n"
            f"cat <<'JSON'\n{output}\nJSON\n"
            f"exit {code}\n"
        )
        script.chmod(0o755)
        monkeypatch.setattr(compose_project, "find_tool", lambda name: str(script) if name == "docker" else None)
        monkeypatch.setattr(compose_project, "docker_compose_available", lambda: True)
        return log

    return install


def test_docker_compose_config_is_used_when_available(fake_docker: Callable[[int, str], Path]) -> None:
    model = {"name": "copilot-prod", "services": {"api": {"image": "registry/api:1.0.0", "read_only": True}}}
    log = fake_docker(0, json.dumps(model))
    config = compose_project.build(Submission(REFERENCE), compose_project.ENVIRONMENTS["production"])
    assert config.model == model and config.engine == compose_project.DOCKER_ENGINE
    args = log.read_text().splitlines()
    assert args[:2] == ["compose", "--project-directory"]
    files = [args[i + 1].rsplit("/", 1)[-1] for i, a in enumerate(args) if a == "-f"]
    assert files == ["docker-compose.yml", "docker-compose.prod.yml"]
    assert args[args.index("--env-file") + 1].endswith("/.env.prod.example")
    start = args.index("config")
    assert args[start : start + 4] == ["config", "--format", "json", "--no-path-resolution"]
    listing = args[args.index("--no-path-resolution") + 1 :]
    assert ".env.staging" in listing and ".env.prod" in listing  # env_file targets exist for Compose to load


def test_docker_compose_config_errors_fail_the_check_with_its_message(fake_docker: Callable[[int, str], Path]) -> None:
    fake_docker(1, "services.api.ports.0 Additional property bogus is not allowed")
    with pytest.raises(CheckFailed, match=r"(?s)docker compose config` rejected .*bogus"):
        compose_project.build(Submission(REFERENCE), compose_project.ENVIRONMENTS["staging"])
