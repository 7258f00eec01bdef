"""Build the image with a real container engine and check it the way production runs it.

Needs a Docker engine that can pull the base image; elsewhere the test is skipped with a loud
reason (the Dockerfile is still linted and checked by the lab03 grader without an engine). Run it
on a developer machine or in CI: ``pytest tests/docker -m slow``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1800
HEALTHY_TIMEOUT_S = 180


def _docker() -> str:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("LOUD SKIP: no docker CLI here, so the image was NOT built; the Dockerfile is only linted")
    probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(
            "LOUD SKIP: the docker CLI cannot reach a container engine, so the image was NOT built; "
            f"the Dockerfile is only linted ({probe.stderr.strip()[:200]})"
        )
    return docker


@pytest.fixture(scope="module")
def image() -> Iterator[tuple[str, str]]:
    docker = _docker()
    tag = f"copilot-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [docker, "build", "--target", "runtime", "-t", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    if build.returncode != 0 and "pull" in build.stderr.lower():
        pytest.skip(
            f"LOUD SKIP: the engine could not pull the base image, so the image was NOT built: {build.stderr[-300:]}"
        )
    assert build.returncode == 0, build.stderr[-3000:]
    yield docker, tag
    subprocess.run([docker, "rmi", "-f", tag], capture_output=True)


def _inspect(docker: str, ref: str) -> dict:
    out = subprocess.run([docker, "inspect", ref], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def test_image_runs_as_an_unprivileged_user_with_a_health_check(image: tuple[str, str]) -> None:
    docker, tag = image
    config = _inspect(docker, tag)["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"][0] == "CMD" and "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert not any(v.split("=", 1)[0].endswith(("SECRET", "PASSWORD", "TOKEN")) for v in config["Env"])


def test_container_becomes_healthy_with_a_read_only_root(image: tuple[str, str]) -> None:
    docker, tag = image
    name = f"copilot-ro-{uuid.uuid4().hex[:8]}"
    run = [
        docker, "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp:size=64m",
        "--tmpfs", "/app/var:size=64m,uid=10001,gid=10001", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges:true", "-e", "COPILOT_ENV=test", tag,
    ]  # fmt: skip
    subprocess.run(run, capture_output=True, text=True, check=True)
    try:
        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        health = "starting"
        while time.monotonic() < deadline and health not in ("healthy", "unhealthy"):
            time.sleep(2)
            health = _inspect(docker, name)["State"].get("Health", {}).get("Status", "none")
        logs = subprocess.run([docker, "logs", name], capture_output=True, text=True).stderr[-2000:]
        assert health == "healthy", logs
        whoami = subprocess.run([docker, "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
        assert whoami.stdout.strip() == "10001"
        write = subprocess.run([docker, "exec", name, "touch", "/app/oops"], capture_output=True, text=True)
        assert write.returncode != 0  # the root filesystem is read-only
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True)
