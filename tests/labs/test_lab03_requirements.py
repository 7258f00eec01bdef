"""The Lab 03 grader's behavioural parts: the HEALTHCHECK run against a server, secrets judged by value
and use, and .dockerignore matching as Docker's builder does it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graders.lab03 import dockerfile as df
from graders.lab03 import healthcheck as hc
from graders.lab03.dockerignore import DockerIgnore
from graders.sdk.server import free_port

PYTHON_CHECK = (
    'CMD ["python", "-c", "import sys, urllib.request; '
    "sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)\"]"
)


def _image(healthcheck: str, base: str = "python:3.11.11-slim-bookworm", extra: str = "") -> df.Dockerfile:
    text = (
        f"FROM {base} AS runtime\n{extra}EXPOSE 8080\nHEALTHCHECK --interval=30s {healthcheck}\n"
        'CMD ["uvicorn", "copilot.main:app", "--host", "0.0.0.0", "--port", "8080"]\n'
    )
    return df.parse(text)


def _verdict(parsed: df.Dockerfile, port: int, tmp_path: Path) -> tuple[bool, bool]:
    """(passes against the running server, passes with nothing listening)."""
    final = parsed.final
    assert final is not None
    probe = hc.healthcheck(parsed, final)
    assert probe is not None
    container = hc.container_port(parsed, final)
    up = hc.run_against(probe, container, port, sys.executable, tmp_path / "up")
    down = hc.run_against(probe, container, free_port(), sys.executable, tmp_path / "down")
    return up.ok, down.ok


@pytest.fixture(scope="module")
def server() -> object:
    with hc.standin() as port:
        yield port


def test_a_working_healthcheck_passes_up_and_fails_down(server: int, tmp_path: Path) -> None:
    assert _verdict(_image(PYTHON_CHECK), server, tmp_path) == (True, False)


def test_shell_form_with_python_on_path_works(server: int, tmp_path: Path) -> None:
    shell = "CMD python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8080/healthz')\" || exit 1"
    assert _verdict(_image(shell), server, tmp_path) == (True, False)


@pytest.mark.parametrize(
    ("healthcheck", "expected"),
    [
        (PYTHON_CHECK.replace(":8080/", ":8000/"), (False, False)),  # uvicorn's default port, not the image's
        (PYTHON_CHECK.replace("/healthz", "/health"), (False, False)),  # 404
        (
            "CMD python -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz')\" || exit 0",
            (True, True),  # swallows the failure
        ),
    ],
)
def test_broken_healthchecks_are_told_apart(
    server: int, tmp_path: Path, healthcheck: str, expected: tuple[bool, bool]
) -> None:
    assert _verdict(_image(healthcheck), server, tmp_path) == expected


def test_a_server_on_another_port_is_followed(tmp_path: Path, server: int) -> None:
    parsed = df.parse(
        'FROM python:3.11-slim\nHEALTHCHECK CMD ["python", "-c", "import urllib.request as u; '
        "u.urlopen('http://127.0.0.1:9000/healthz')\"]\nCMD uvicorn app:app --port 9000\n"
    )
    assert parsed.final is not None and hc.container_port(parsed, parsed.final) == 9000
    assert _verdict(parsed, server, tmp_path) == (True, False)


@pytest.mark.parametrize(
    ("base", "extra", "missing"),
    [
        ("python:3.11.11-slim-bookworm", "", ["curl"]),
        ("python:3.11-alpine", "", ["curl"]),
        ("python:3.11.11-slim-bookworm", "RUN apt-get update && apt-get install -y --no-install-recommends curl\n", []),
        ("python:3.11.11-bookworm", "", []),  # the full Debian image ships curl
    ],
)
def test_tools_the_image_lacks_are_named(base: str, extra: str, missing: list[str]) -> None:
    parsed = _image("CMD curl -f http://localhost:8080/healthz || exit 1", base, extra)
    assert parsed.final is not None
    probe = hc.healthcheck(parsed, parsed.final)
    assert probe is not None and hc.missing_tools(parsed, parsed.final, probe) == missing


def test_healthcheck_none_and_inherited_ones() -> None:
    assert hc.healthcheck(*_final(_image("NONE"))) is None
    inherited = df.parse(f"FROM python:3.11-slim AS base\nHEALTHCHECK {PYTHON_CHECK}\nFROM base AS runtime\nUSER 1\n")
    probe = hc.healthcheck(*_final(inherited))
    assert probe is not None and probe.argv[0] == "python"


def _final(parsed: df.Dockerfile) -> tuple[df.Dockerfile, df.Stage]:
    assert parsed.final is not None
    return parsed, parsed.final


# -- secrets in ARG and ENV: by name, value and use --------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "flagged"),
    [
        (
            "ARG PIP_EXTRA_INDEX_URL=https://deploy:gldt-4kP9wQ2xZr7mN3vB8cJd@gitlab.example/simple\n",
            ["PIP_EXTRA_INDEX_URL"],
        ),
        ("ENV GH=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", ["GH"]),
        (
            'ARG REGISTRY_PASS\nRUN pip install --index-url "https://ci:${REGISTRY_PASS}@pypi.example/simple" x\n',
            ["REGISTRY_PASS"],
        ),
        ('ARG GL\nRUN curl -H "PRIVATE-TOKEN: $GL" https://gitlab.example/api\n', ["GL"]),
        ("ARG NPM_TOKEN\n", ["NPM_TOKEN"]),  # the name says so
        ("ENV COPILOT_AUTH_MODE=jwt JWT_ALGORITHM=HS256\n", []),  # settings about a secret
        ("ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu\n", []),
        ("ENV DATABASE_URL_FILE=/run/secrets/database_url\n", []),
    ],
)
def test_secrets_by_name_value_and_use(lines: str, flagged: list[str]) -> None:
    parsed = df.parse(f"FROM python:3.11-slim\n{lines}")
    assert [name for _, name in df.secret_assignments(parsed)] == flagged


# -- .dockerignore ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "path", "excluded"),
    [
        (".env*\nsecrets/\n", ".env.prod", True),
        (".env*\nsecrets/\n", "secrets/database_url.txt", True),
        (".env*\n", "config/.env", False),  # patterns are anchored at the context root
        ("**/.env*\n", "config/.env", True),
        ("**\n!src/\n", "src/copilot/main.py", False),  # re-included folder, and what is inside it
        ("**\n!src/\n**/.env\n", "src/.env", True),  # the last matching pattern wins
        ("# .env\n", ".env", False),  # a comment, not a pattern
        ("/secrets/../secrets/*\n", "secrets/a", True),  # cleaned like Go's filepath.Clean
        ("*.txt\n", "secrets/a.txt", False),  # '*' stays within one segment
    ],
)
def test_dockerignore_follows_dockers_matcher(text: str, path: str, excluded: bool) -> None:
    assert DockerIgnore.parse(text).excludes(path) is excluded


def test_the_base_image_is_found_through_earlier_stages() -> None:
    parsed = df.parse(
        "FROM python:3.11.11-slim-bookworm AS base\nFROM base AS runtime\n"
        "HEALTHCHECK CMD curl -f http://localhost:8080/healthz || exit 1\n"
    )
    final = parsed.final
    assert final is not None
    probe = hc.healthcheck(parsed, final)
    assert probe is not None and hc.missing_tools(parsed, final, probe) == ["curl"]
