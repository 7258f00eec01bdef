"""Whether an image's HEALTHCHECK works, shown by running it rather than reading it.

There is no Docker engine where the grader runs, so the command runs the way the container would run
it (exec form as is, shell form through ``/bin/sh -c``) on this machine: ``python`` is the student's
interpreter, the container port the image serves on is rewritten to the port of the student's API
started by the grader, and tools the image does not have (``curl`` in a ``-slim`` base) are named
instead of being borrowed from this machine. A health check must pass against the running API and
fail when nothing answers; one that always succeeds hides every outage.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from graders.lab03 import dockerfile as df
from graders.sdk import process

DEFAULT_PORT = 8080
RUN_TIMEOUT_S = 15.0
PYTHON_NAMES = re.compile(r"^python(3(\.\d+)?)?$")
# Tools a health check calls that these base images do not ship (the Debian slim and Alpine images
# of python, the CUDA runtime images); installing them in the final stage's lineage brings them in.
ABSENT_TOOLS = {"slim": ("curl", "wget"), "alpine": ("curl",), "nvidia/cuda": ("curl", "wget")}
INSTALL = re.compile(r"\b(apt-get|apt|apk|yum|dnf|microdnf)\b[^;&|]*\b(install|add)\b([^;&|]*)")
PORT_FLAG = re.compile(r"(?:--port[= ]|-p )[\"']?(\d{2,5})")


@dataclass(frozen=True)
class Healthcheck:
    argv: list[str]  # what the container runs
    line: int
    text: str  # as written, for feedback


def healthcheck(parsed: df.Dockerfile, stage: df.Stage) -> Healthcheck | None:
    """The final HEALTHCHECK command of ``stage`` (inherited ones count); None when there is none."""
    instruction = parsed.effective(stage, "HEALTHCHECK")
    if instruction is None or df.healthcheck_disabled(instruction):
        return None
    body = instruction.arguments
    if not body.upper().startswith("CMD"):
        return None
    body = body[3:].strip()
    if body.startswith("["):
        try:
            argv = json.loads(body)
        except json.JSONDecodeError:
            return Healthcheck([], instruction.line, body)
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            return Healthcheck([], instruction.line, body)
        return Healthcheck(argv, instruction.line, body)
    return Healthcheck(["/bin/sh", "-c", body], instruction.line, body)


def container_port(parsed: df.Dockerfile, stage: df.Stage) -> int:
    """The port the image's server listens on: ``--port`` of its command, else its first EXPOSE."""
    for keyword in ("CMD", "ENTRYPOINT"):
        instruction = parsed.effective(stage, keyword)
        match = PORT_FLAG.search(instruction.arguments) if instruction else None
        if match:
            return int(match.group(1))
    for ancestor in reversed(parsed.lineage(stage)):
        for expose in reversed(ancestor.find("EXPOSE")):
            match = re.match(r"\s*(\d+)", expose.arguments)
            if match:
                return int(match.group(1))
    return DEFAULT_PORT


def tools_called(check: Healthcheck) -> list[str]:
    """Program names the command runs (every command word of a shell form)."""
    if check.argv[:2] != ["/bin/sh", "-c"]:
        return [Path(check.argv[0]).name] if check.argv else []
    try:
        words = shlex.split(check.argv[2])
    except ValueError:
        words = check.argv[2].split()
    names, starts = [], True
    for word in words:
        if starts and not re.match(r"^\w+=", word):
            names.append(Path(word).name)
            starts = False
        if word in ("||", "&&", ";", "|") or word.endswith(";"):
            starts = True
    return names


def missing_tools(parsed: df.Dockerfile, stage: df.Stage, check: Healthcheck) -> list[str]:
    """Tools the command calls that the final image does not have."""
    lineage = parsed.lineage(stage)  # the stage first, the one built on an image last
    base = lineage[-1].base.lower() if lineage else ""
    absent = {t for marker, tools in ABSENT_TOOLS.items() if marker in base for t in tools}
    installed = {
        word
        for ancestor in lineage
        for run in ancestor.find("RUN")
        for match in INSTALL.finditer(run.arguments)
        for word in match.group(3).split()
    }
    return sorted({t for t in tools_called(check) if t in absent and t not in installed})


def with_port(text: str, container: int, target: int) -> str:
    return re.sub(rf":{container}(?!\d)", f":{target}", text)


def run_against(check: Healthcheck, container: int, target: int, python: str, workdir: Path) -> process.ProcessResult:
    """Run the command with the container's port pointed at ``target`` and ``python`` as its interpreter."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(python)} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
    argv = [with_port(a, container, target) for a in check.argv]
    if PYTHON_NAMES.match(Path(argv[0]).name):
        argv[0] = str(bin_dir / "python")
    path = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"
    return process.run(
        argv, cwd=workdir, timeout=RUN_TIMEOUT_S, env={"PATH": path}, raise_on_timeout=False, label="HEALTHCHECK"
    )


class _HealthzHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = urlsplit(self.path).path in ("/healthz", "/readyz")
        body = b'{"status": "ok"}' if ok else b'{"detail": "Not Found"}'
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def standin() -> Iterator[int]:
    """A server answering /healthz and /readyz as the Copilot does, for when the student's API does not
    start (that is lab02's grade, not this one); yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthzHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
