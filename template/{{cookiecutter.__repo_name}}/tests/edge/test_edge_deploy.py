"""scripts/edge_deploy.py against a real sshd on loopback, through a link that drops connections.

The "edge host" is this machine: sshd started by the test for the current user, a remote folder
under the test's temporary folder, and a stand-in for ``docker compose`` that records its calls.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from .sshd import FlakyLink, SshServer, sshd_server

# A deploy ships docker-compose.prod.yml, which lab03 has the student write (absent from the starter).
pytestmark = pytest.mark.lab("lab03")

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "edge_deploy.py"
PAYLOAD_BYTES = 1_500_000


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edge_deploy", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["edge_deploy"] = module
    spec.loader.exec_module(module)
    return module


edge = _load()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with sshd_server(tmp_path_factory.mktemp("sshd")) as ssh:
        yield ssh


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout with what a deploy ships: compose files, .env.prod, secrets and a large extra file."""
    root = tmp_path / "project"
    (root / "secrets").mkdir(parents=True)
    (root / "models").mkdir()
    for name in ("docker-compose.yml", "docker-compose.prod.yml"):
        (root / name).write_bytes((REPO / name).read_bytes())
    (root / ".env.prod").write_bytes((REPO / ".env.prod.example").read_bytes())
    (root / "secrets" / "database_url.txt").write_text("postgresql://copilot:s3cret@postgres:5432/copilot\n")
    (root / "secrets" / "README.md").write_text("not shipped\n")
    (root / "models" / "payload.bin").write_bytes(os.urandom(PAYLOAD_BYTES))  # incompressible
    return root


@pytest.fixture
def compose_log(tmp_path: Path) -> Path:
    return tmp_path / "compose-calls.log"


@pytest.fixture
def fake_compose(tmp_path: Path, compose_log: Path) -> Path:
    """Stands in for `docker compose` on the edge host: records cwd and arguments; fails once on demand."""
    script = tmp_path / "fake-compose"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$(pwd -P) $*" >> {compose_log}\n'
        f'if [ -f {tmp_path}/fail-once ]; then rm -f {tmp_path}/fail-once; echo "pull access denied" >&2; exit 1; fi\n'
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def make_options(server: SshServer, project: Path, fake_compose: Path, tmp_path: Path) -> Callable[..., edge.Options]:
    def make(port: int | None = None, **changes: object) -> edge.Options:
        known = server.known_hosts if port is None else server.known_hosts_for(port, tmp_path / "known_hosts_proxy")
        options = edge.Options(
            host="127.0.0.1",
            port=port or server.port,
            user=server.user,
            identity=server.identity,
            known_hosts=known,
            project_root=project,
            remote_dir=str(tmp_path / "edge" / "copilot"),
            include=(Path("models/payload.bin"),),
            compose_command=str(fake_compose),
            attempts=3,
            backoff_s=0.01,
            max_backoff_s=0.05,
            timeout_s=5.0,
            chunk_size=32 * 1024,
        )
        return replace(options, **changes)  # type: ignore[arg-type]

    return make


@pytest.fixture
def flaky_link(server: SshServer) -> Iterator[FlakyLink]:
    link = FlakyLink(server.port).start()
    yield link
    link.stop()


def current_release(options: edge.Options) -> Path:
    return Path(options.remote_dir, "current").resolve()


def test_deploys_the_bundle_and_starts_it(make_options: Callable[..., edge.Options], compose_log: Path) -> None:
    options = make_options()
    report = edge.deploy(options)
    assert report.attempts == 1 and report.uploaded
    release = current_release(options)
    assert release.parent.name == "releases" and release.name == report.sha256
    assert (release / "docker-compose.prod.yml").read_bytes() == (
        options.project_root / "docker-compose.prod.yml"
    ).read_bytes()
    assert (release / "models" / "payload.bin").read_bytes() == (
        options.project_root / "models" / "payload.bin"
    ).read_bytes()
    assert stat.S_IMODE((release / ".env.prod").stat().st_mode) == 0o600
    assert stat.S_IMODE((release / "secrets" / "database_url.txt").stat().st_mode) == 0o600
    assert not (release / "secrets" / "README.md").exists()
    calls = compose_log.read_text().splitlines()
    flags = "--env-file .env.prod -f docker-compose.yml -f docker-compose.prod.yml"
    assert calls == [
        f"{release} {flags} pull --quiet --ignore-pull-failures",
        f"{release} {flags} up --detach --remove-orphans --wait --wait-timeout 300",
    ]
    assert not list(Path(options.remote_dir, "incoming").iterdir())  # the archive is removed once unpacked


def test_a_rerun_is_idempotent_and_sends_nothing(make_options: Callable[..., edge.Options], compose_log: Path) -> None:
    options = make_options()
    first = edge.deploy(options)
    second = edge.deploy(options)
    assert second.sha256 == first.sha256
    assert not second.uploaded and second.bytes_sent == 0
    assert [p.name for p in Path(options.remote_dir, "releases").iterdir()] == [first.sha256]
    assert len(compose_log.read_text().splitlines()) == 4  # compose pull/up run again: they are idempotent


def test_dropped_connections_resume_the_upload(
    make_options: Callable[..., edge.Options], flaky_link: FlakyLink, tmp_path: Path
) -> None:
    flaky_link.budget = 500_000  # every connection dies after ~500 KB from the client
    options = make_options(port=flaky_link.port, attempts=30)
    report = edge.deploy(options)
    bundle = edge.build_bundle(options, tmp_path)
    assert flaky_link.cuts >= 2, report.errors
    # Resumed, never restarted: each new connection continued from further along the file.
    assert len(report.resumed_at) >= 2 and report.resumed_at == sorted(set(report.resumed_at))
    assert report.resumed_at[-1] < bundle.size
    payload = current_release(options) / "models" / "payload.bin"
    local = options.project_root / "models" / "payload.bin"
    assert hashlib.sha256(payload.read_bytes()).digest() == hashlib.sha256(local.read_bytes()).digest()


def test_a_corrupt_partial_upload_is_discarded(make_options: Callable[..., edge.Options], tmp_path: Path) -> None:
    options = make_options()
    bundle = edge.build_bundle(options, tmp_path)
    incoming = Path(options.remote_dir, "incoming")
    incoming.mkdir(parents=True)
    (incoming / f"{bundle.sha256}.tar.gz.part").write_bytes(b"garbage from an interrupted transfer")
    report = edge.deploy(options)
    assert report.attempts == 2 and "ChecksumMismatch" in report.errors[0]
    assert current_release(options).name == bundle.sha256


def test_a_failed_compose_run_is_retried(
    make_options: Callable[..., edge.Options], tmp_path: Path, compose_log: Path
) -> None:
    (tmp_path / "fail-once").touch()  # the registry is unreachable for the first pull
    report = edge.deploy(make_options())
    assert report.attempts == 2 and "pull access denied" in report.errors[0]
    assert not report.uploaded or report.bytes_sent > 0
    assert "up --detach" in compose_log.read_text().splitlines()[-1]


def test_it_gives_up_after_the_attempts_with_backoff(
    make_options: Callable[..., edge.Options], flaky_link: FlakyLink
) -> None:
    flaky_link.refuse = True  # the uplink is down
    delays: list[float] = []
    options = make_options(port=flaky_link.port, attempts=4, backoff_s=1.0, max_backoff_s=3.0)
    with pytest.raises(edge.DeployError, match="gave up after 4 attempts"):
        edge.deploy(options, sleep=delays.append)
    assert flaky_link.connections == 4
    assert len(delays) == 3 and 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 1.5 <= delays[2] <= 3.0


def test_an_unknown_host_key_is_refused_without_retrying(
    make_options: Callable[..., edge.Options], tmp_path: Path
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(edge.DeployError, match=r"not in .*empty_known_hosts.*ssh-keyscan"):
        edge.deploy(make_options(known_hosts=empty))


def test_a_missing_env_file_names_the_example(make_options: Callable[..., edge.Options], project: Path) -> None:
    (project / ".env.prod").unlink()
    with pytest.raises(edge.DeployError, match=r"\.env\.prod is missing: create it from .*\.env\.prod\.example"):
        edge.deploy(make_options())


def test_the_bundle_is_reproducible(make_options: Callable[..., edge.Options], tmp_path: Path) -> None:
    options = make_options()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = edge.build_bundle(options, tmp_path / "a"), edge.build_bundle(options, tmp_path / "b")
    assert first.sha256 == second.sha256
    with tarfile.open(first.path) as tar:
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
        assert tar.getnames()[:3] == ["docker-compose.yml", "docker-compose.prod.yml", ".env.prod"]


def test_command_line(server: SshServer, project: Path, fake_compose: Path, tmp_path: Path) -> None:
    remote = tmp_path / "cli-edge"
    args = [
        sys.executable, str(SCRIPT), "--host", "127.0.0.1", "--port", str(server.port), "--user", server.user,
        "--identity", str(server.identity), "--known-hosts", str(server.known_hosts),
        "--project-root", str(project), "--remote-dir", str(remote), "--compose-command", str(fake_compose),
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "deployed release" in result.stdout and (remote / "current" / "docker-compose.yml").exists()
    bad = subprocess.run([*args[:2], "--host", "x"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "--user" in bad.stderr
