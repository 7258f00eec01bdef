"""A real OpenSSH server on loopback, and a TCP proxy in front of it that can drop connections.

The server runs ``/usr/sbin/sshd -D`` with a configuration, host key and authorized key generated
in a temporary folder, for the current user. The proxy stands for the plant's flaky uplink: it
forwards bytes both ways and cuts every connection after a byte budget, or refuses all of them.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"sshd exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on {port}")


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    identity: Path
    known_hosts: Path
    host_public_key: str

    def known_hosts_for(self, port: int, path: Path) -> Path:
        """A known_hosts file naming this server's key at another port (the proxy's)."""
        path.write_text(f"[127.0.0.1]:{port} {self.host_public_key}\n", encoding="utf-8")
        return path


@contextlib.contextmanager
def sshd_server(workdir: Path) -> Iterator[SshServer]:
    keygen = shutil.which("ssh-keygen")
    if not Path(SSHD).exists() or keygen is None:
        pytest.skip("LOUD SKIP: OpenSSH server (sshd, ssh-keygen) is not installed: apt-get install openssh-server")
    if os.geteuid() == 0:
        # sshd running as root needs its privilege separation folder (the openssh-server service creates it).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key, user_key = workdir / "host_ed25519", workdir / "user_ed25519"
    for key in (host_key, user_key):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = workdir / "authorized_keys"
    authorized.write_text(user_key.with_suffix(".pub").read_text(encoding="utf-8"), encoding="utf-8")
    authorized.chmod(0o600)
    port = free_port()
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {workdir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "",
            ]
        ),
        encoding="utf-8",
    )
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for_port(port, proc)
        public = " ".join(host_key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
        known = workdir / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {public}\n", encoding="utf-8")
        yield SshServer(port, getpass.getuser(), user_key, known, public)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


@dataclass
class FlakyLink:
    """A TCP proxy to ``upstream``: cuts each connection after ``budget`` client bytes, or refuses all."""

    upstream: int
    budget: int | None = None
    refuse: bool = False
    port: int = 0
    connections: int = 0
    cuts: int = 0
    _server: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: list[socket.socket] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> FlakyLink:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        server.settimeout(0.2)
        self._server, self.port = server, server.getsockname()[1]
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for sock in [*self._open, self._server]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            if self.refuse:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            self._open += [client, upstream]
            state = {"sent": 0}
            self._spawn(self._pump, client, upstream, state, True)
            self._spawn(self._pump, upstream, client, state, False)

    def _pump(self, source: socket.socket, sink: socket.socket, state: dict[str, int], metered: bool) -> None:
        try:
            while not self._stopping.is_set():
                data = source.recv(16384)
                if not data:
                    break
                if metered and self.budget is not None:
                    room = self.budget - state["sent"]
                    if len(data) >= room:  # the uplink drops mid-transfer
                        self.cuts += 1
                        sink.sendall(data[: max(room, 0)])
                        # What crossed the link arrives (FIN, not a reset); the client side just dies.
                        with contextlib.suppress(OSError):
                            sink.shutdown(socket.SHUT_WR)
                        with contextlib.suppress(OSError):
                            source.close()
                        return
                    state["sent"] += len(data)
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
