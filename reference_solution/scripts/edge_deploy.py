"""Ship the compose bundle to a plant edge host over SSH and start it, surviving dropped connections.

    python scripts/edge_deploy.py --host edge-rvb01.plant.local --user deploy \\
        --identity ~/.ssh/copilot_edge --known-hosts ~/.ssh/known_hosts --env prod

The plant network drops connections, so every step can be repeated safely:

* the bundle (compose files, the environment's env file, the secret files, ``--include`` extras)
  is a deterministic tar.gz named by its SHA-256, so the same inputs give the same release;
* the upload is resumable: a dropped transfer continues from the bytes the host already has, and
  the result is verified with ``sha256sum`` on the host before it is used (a corrupt partial file
  is discarded and sent again);
* releases unpack into ``<remote-dir>/releases/<sha256>`` and go live by an atomic switch of the
  ``current`` symlink; a release already on the host is not sent again;
* ``docker compose pull`` tolerates pull failures when the images are already cached, and
  ``docker compose up --detach --wait`` is idempotent;
* every failed attempt is retried with exponential backoff and jitter, reconnecting each time;
  only authentication and host key problems stop at once.

Exit status: 0 deployed, 1 failed (the last error is printed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import logging
import random
import shlex
import socket
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

log = logging.getLogger("edge_deploy")

DEFAULT_REMOTE_DIR = "/opt/copilot"
DEFAULT_CHUNK = 256 * 1024
PIPELINE_WINDOW = 256 * 1024
SECRET_SUFFIXES = (".txt", ".pem", ".key", ".json")
# Never retried: another attempt cannot fix a wrong key or an unknown host key.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    paramiko.AuthenticationException,
    paramiko.BadHostKeyException,
)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    paramiko.SSHException,
    OSError,
    EOFError,
    socket.timeout,
)


class DeployError(Exception):
    """The deployment failed; the message says where and why."""


class RemoteCommandFailed(DeployError):
    """A command on the edge host exited non-zero (retried: pulls fail while the uplink is down)."""


class ChecksumMismatch(DeployError):
    """The uploaded bundle differs from the local one (retried with a fresh upload)."""


@dataclass(frozen=True)
class Options:
    host: str
    user: str
    project_root: Path
    env: str = "prod"
    port: int = 22
    identity: Path | None = None
    known_hosts: Path | None = None
    remote_dir: str = DEFAULT_REMOTE_DIR
    env_file: Path | None = None
    include: tuple[Path, ...] = ()
    include_secrets: bool = True
    compose_command: str = "docker compose"
    attempts: int = 8
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0
    timeout_s: float = 20.0
    command_timeout_s: float = 600.0
    chunk_size: int = DEFAULT_CHUNK
    keep_releases: int = 3


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    size: int
    members: tuple[str, ...]


@dataclass
class DeployReport:
    sha256: str
    attempts: int = 0
    bytes_sent: int = 0  # handed to the link, lost ones included
    uploaded: bool = False
    resumed_at: list[int] = field(default_factory=list)  # bytes the host already had, per resumed upload
    errors: list[str] = field(default_factory=list)


# -- the bundle --------------------------------------------------------------------------------------
def bundle_members(options: Options) -> list[tuple[str, Path, int]]:
    """(name in the bundle, local file, mode) of everything the edge host needs, in a fixed order."""
    root = options.project_root
    override = f"docker-compose.{options.env}.yml"
    env_file = options.env_file or root / f".env.{options.env}"
    members: list[tuple[str, Path, int]] = []
    for name in ("docker-compose.yml", override):
        if not (root / name).is_file():
            raise DeployError(f"{root / name} is missing; the bundle needs the base and the {options.env} compose file")
        members.append((name, root / name, 0o644))
    if not env_file.is_file():
        raise DeployError(
            f"{env_file} is missing: create it from {root / f'.env.{options.env}.example'} (it is never committed)"
        )
    members.append((f".env.{options.env}", env_file, 0o600))
    if options.include_secrets:
        secrets = root / "secrets"
        for path in sorted(secrets.glob("*")) if secrets.is_dir() else []:
            if path.is_file() and path.suffix in SECRET_SUFFIXES:
                members.append((f"secrets/{path.name}", path, 0o600))
    for extra in options.include:
        path = extra if extra.is_absolute() else root / extra
        if not path.is_file():
            raise DeployError(f"--include {extra}: no such file")
        members.append((path.resolve().relative_to(root.resolve()).as_posix(), path, 0o644))
    return members


def build_bundle(options: Options, workdir: Path) -> Bundle:
    """A reproducible tar.gz: fixed order, mtimes, owners and gzip header, so equal inputs hash equal."""
    members = bundle_members(options)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path, mode in members:
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    target = workdir / "bundle.tar.gz"
    with target.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return Bundle(target, digest, target.stat().st_size, tuple(name for name, _, _ in members))


# -- the connection ----------------------------------------------------------------------------------
class EdgeHost:
    """One SSH connection to the edge host (host keys checked against known_hosts, never auto-added)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.client = paramiko.SSHClient()
        if options.known_hosts is not None:
            self.client.load_host_keys(str(options.known_hosts))
        else:
            self.client.load_system_host_keys()
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())

    def __enter__(self) -> EdgeHost:
        o = self.options
        self.client.connect(
            o.host,
            port=o.port,
            username=o.user,
            key_filename=str(o.identity) if o.identity else None,
            timeout=o.timeout_s,
            banner_timeout=o.timeout_s,
            auth_timeout=o.timeout_s,
            channel_timeout=o.timeout_s,
            look_for_keys=o.identity is None,
            allow_agent=o.identity is None,
        )
        transport = self.client.get_transport()
        if transport is not None:
            transport.set_keepalive(10)  # notice a dead link within seconds, not at the TCP timeout
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def run(self, command: str, timeout: float | None = None) -> str:
        """Run a shell command on the host; raise RemoteCommandFailed with its output when it fails."""
        _, stdout, stderr = self.client.exec_command(command, timeout=timeout or self.options.command_timeout_s)
        out = stdout.read().decode("utf-8", errors="replace")
        err = stderr.read().decode("utf-8", errors="replace")
        status = stdout.channel.recv_exit_status()
        if status != 0:
            detail = (err or out).strip()[-800:]
            raise RemoteCommandFailed(f"`{command}` exited {status} on {self.options.host}: {detail}")
        return out

    def sftp(self) -> paramiko.SFTPClient:
        sftp = self.client.open_sftp()
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(self.options.timeout_s)
        return sftp


def remote_size(sftp: paramiko.SFTPClient, remote: str) -> int:
    try:
        return sftp.stat(remote).st_size or 0
    except FileNotFoundError:
        return 0


def upload_resumable(
    sftp: paramiko.SFTPClient, local: Path, remote: str, chunk_size: int, progress: Callable[[int], None]
) -> int:
    """Append the bytes the host does not have yet; return how many were sent in this call."""
    size = local.stat().st_size
    offset = remote_size(sftp, remote)
    if offset > size:  # left over from another bundle with this name: start again
        sftp.remove(remote)
        offset = 0
    if offset == size:
        return 0
    if offset:
        log.info("resuming upload at %d of %d bytes", offset, size)
    sent = 0
    # Writes go to absolute offsets (not append): a late write of a dropped session lands the same
    # bytes at the same place, so it can never corrupt the file.
    with local.open("rb") as src, sftp.open(remote, "r+b" if offset else "wb") as dst:
        # Pipelined writes keep a slow link busy; a stat every window waits for the acknowledgements
        # before it, so at most one window is in flight when the link drops.
        dst.set_pipelined(True)
        src.seek(offset)
        dst.seek(offset)
        unconfirmed = 0
        while chunk := src.read(chunk_size):
            dst.write(chunk)
            sent += len(chunk)
            unconfirmed += len(chunk)
            progress(len(chunk))
            if unconfirmed >= PIPELINE_WINDOW:
                dst.flush()
                sftp.stat(remote)
                unconfirmed = 0
    return sent


# -- one attempt ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RemoteLayout:
    base: str
    sha256: str

    @property
    def release(self) -> str:
        return f"{self.base}/releases/{self.sha256}"

    @property
    def archive(self) -> str:
        return f"{self.base}/incoming/{self.sha256}.tar.gz"

    @property
    def partial(self) -> str:
        return self.archive + ".part"

    @property
    def current(self) -> str:
        return f"{self.base}/current"


def _q(value: str) -> str:
    return shlex.quote(value)


def _sha256_of(path: str) -> str:
    return f"$(sha256sum < {_q(path)} | cut -d ' ' -f 1)"


def _compose(options: Options) -> str:
    files = f"-f docker-compose.yml -f docker-compose.{options.env}.yml"
    return f"{options.compose_command} --env-file .env.{options.env} {files}"


def _state(host: EdgeHost, layout: RemoteLayout) -> str:
    """What the host already has of this release: ``released``, ``archived`` (verified) or ``missing``."""
    base, release, archive = _q(layout.base), _q(layout.release), _q(layout.archive)
    return host.run(
        f"mkdir -p {base}/incoming {base}/releases && chmod 700 {base}"
        f" && if [ -f {release}/.complete ]; then echo released;"
        f" elif [ -f {archive} ] && [ {_sha256_of(layout.archive)} = {layout.sha256} ]; then echo archived;"
        " else echo missing; fi"
    ).strip()


def _upload(host: EdgeHost, layout: RemoteLayout, bundle: Bundle, options: Options, report: DeployReport) -> None:
    with contextlib.closing(host.sftp()) as sftp:
        already = remote_size(sftp, layout.partial)
        if already:
            report.resumed_at.append(already)
        sent = upload_resumable(sftp, bundle.path, layout.partial, options.chunk_size, lambda n: _count(report, n))
    report.uploaded = report.uploaded or sent > 0
    part, archive = _q(layout.partial), _q(layout.archive)
    verdict = host.run(
        f"if [ {_sha256_of(layout.partial)} = {layout.sha256} ]; then mv -f {part} {archive} && echo ok;"
        f" else rm -f {part}; echo mismatch; fi"
    ).strip()
    if verdict != "ok":
        raise ChecksumMismatch(f"the uploaded bundle's sha256 is not {layout.sha256}; it was discarded")


def _unpack(host: EdgeHost, layout: RemoteLayout) -> None:
    staging, release, archive = _q(layout.release + ".tmp"), _q(layout.release), _q(layout.archive)
    host.run(
        f"rm -rf {staging} && mkdir -p {staging} && chmod 700 {staging} && tar -xzf {archive} -C {staging}"
        f" && touch {staging}/.complete && rm -rf {release} && mv {staging} {release} && rm -f {archive}"
    )


def _activate(host: EdgeHost, layout: RemoteLayout, options: Options) -> None:
    """Switch ``current`` atomically, start the release and prune old ones (one round trip)."""
    link, releases, compose = _q(layout.current), f"{_q(layout.base)}/releases", _compose(options)
    keep = max(options.keep_releases, 1)
    host.run(
        f"ln -sfn {_q(layout.release)} {link}.tmp && mv -Tf {link}.tmp {link}"
        f" && cd {link} && {compose} pull --quiet --ignore-pull-failures"
        f" && {compose} up --detach --remove-orphans --wait --wait-timeout 300"
        # Keep the newest releases (always the current one) for a quick manual rollback.
        f" && cd {releases} && ls -1t | grep -v -x -e {layout.sha256} -e '.*\\.tmp' | tail -n +{keep}"
        " | xargs -r rm -rf --"
    )


def attempt(options: Options, bundle: Bundle, report: DeployReport) -> None:
    """Bring the host to "this bundle is running"; every step checks what is already done."""
    layout = RemoteLayout(options.remote_dir.rstrip("/"), bundle.sha256)
    with EdgeHost(options) as host:
        state = _state(host, layout)
        if state == "missing":
            _upload(host, layout, bundle, options, report)
        if state != "released":
            _unpack(host, layout)
        _activate(host, layout, options)


def _count(report: DeployReport, sent: int) -> None:
    report.bytes_sent += sent


# -- retries -------------------------------------------------------------------------------------------
def backoff_delays(options: Options, rng: random.Random) -> Iterator[float]:
    """Exponential backoff with jitter: about base, 2*base, 4*base ... capped at max_backoff_s."""
    delay = options.backoff_s
    while True:
        yield min(delay, options.max_backoff_s) * (0.5 + rng.random() / 2)
        delay *= 2


def deploy(
    options: Options, sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None
) -> DeployReport:
    with tempfile.TemporaryDirectory(prefix="edge-bundle-") as tmp:
        bundle = build_bundle(options, Path(tmp))
        log.info("bundle %s: %d bytes, %s", bundle.sha256[:12], bundle.size, ", ".join(bundle.members))
        report = DeployReport(bundle.sha256)
        delays = backoff_delays(options, rng or random.Random())
        for number in range(1, options.attempts + 1):
            report.attempts = number
            try:
                attempt(options, bundle, report)
                log.info("release %s is running on %s (attempt %d)", bundle.sha256[:12], options.host, number)
                return report
            except PERMANENT_ERRORS as exc:
                raise DeployError(f"{options.host}: {type(exc).__name__}: {exc} (not retried)") from exc
            except paramiko.SSHException as exc:
                if "not found in known_hosts" in str(exc):
                    where = options.known_hosts or "the known_hosts file"
                    raise DeployError(
                        f"{options.host} is not in {where}; verify its host key and add it "
                        f"(ssh-keyscan -p {options.port} {options.host})"
                    ) from exc
                _note(report, number, exc)
            except (*TRANSIENT_ERRORS, DeployError) as exc:
                _note(report, number, exc)
            if number < options.attempts:
                delay = next(delays)
                log.warning("attempt %d failed (%s); retrying in %.1f s", number, report.errors[-1], delay)
                sleep(delay)
        raise DeployError(f"gave up after {options.attempts} attempts; last error: {report.errors[-1]}")


def _note(report: DeployReport, number: int, exc: BaseException) -> None:
    report.errors.append(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


# -- command line --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="the plant edge host")
    parser.add_argument("--user", required=True, help="SSH user (in the docker group on the host)")
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--identity", type=Path, help="private key file (default: ssh-agent and ~/.ssh keys)")
    parser.add_argument("--known-hosts", type=Path, help="known_hosts file with the host's key (never auto-accepted)")
    parser.add_argument("--env", default="prod", choices=("prod", "staging"), help="which override file to run")
    parser.add_argument("--env-file", type=Path, help="local env file to ship (default: .env.<env>)")
    parser.add_argument("--remote-dir", default=DEFAULT_REMOTE_DIR)
    parser.add_argument("--project-root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--include", type=Path, action="append", default=[], help="extra file to ship (repeatable)")
    parser.add_argument("--no-secrets", action="store_true", help="do not ship secrets/ (managed on the host)")
    parser.add_argument("--compose-command", default="docker compose")
    parser.add_argument("--attempts", type=int, default=8)
    parser.add_argument("--backoff", type=float, default=2.0, help="first retry delay in seconds (doubles)")
    parser.add_argument("--max-backoff", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=20.0, help="connect and idle timeout in seconds")
    args = parser.parse_args(argv)
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    return Options(
        host=args.host,
        user=args.user,
        port=args.port,
        identity=args.identity,
        known_hosts=args.known_hosts,
        env=args.env,
        env_file=args.env_file,
        remote_dir=args.remote_dir,
        project_root=args.project_root,
        include=tuple(args.include),
        include_secrets=not args.no_secrets,
        compose_command=args.compose_command,
        attempts=args.attempts,
        backoff_s=args.backoff,
        max_backoff_s=args.max_backoff,
        timeout_s=args.timeout,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # dropped links are expected and retried
    options = parse_args(argv)
    try:
        report = deploy(options)
    except DeployError as exc:
        print(f"edge deploy failed: {exc}", file=sys.stderr)
        return 1
    sent = f"{report.bytes_sent} bytes sent" if report.uploaded else "already on the host"
    print(f"deployed release {report.sha256[:12]} to {options.host} in {report.attempts} attempt(s); {sent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
