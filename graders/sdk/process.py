"""Running student programs and external tools in subprocesses, under limits.

Student code never runs inside the grader: it runs here, with a wall-clock timeout (the whole
process group is killed), an address-space limit, a scrubbed environment (the grader's secrets,
tokens and ``GITHUB_OUTPUT``/``GITHUB_ENV`` never reach it) and captured, truncated output.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from graders.sdk.checks import GraderError

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 4096
MAX_OUTPUT_CHARS = 20_000

# Only these variables of the grader's environment reach a student program; everything else
# (GITHUB_TOKEN, GITHUB_OUTPUT, cloud credentials, the grader's own settings) is dropped.
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "TERM")


class StudentProgramTimeout(GraderError):
    """A student program ran past its timeout; reported as an ``error`` outcome of the check."""


@dataclass
class ProcessResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()

    def tail(self, lines: int = 15) -> str:
        """The last lines of the output, for feedback."""
        return "\n".join(self.output.splitlines()[-lines:])


def student_python(explicit: str | None = None) -> str:
    """The interpreter that has the student's dependencies: ``--python`` or the grader's own."""
    return explicit or os.environ.get("CAPSTONE_STUDENT_PYTHON") or sys.executable


def scrubbed_env(extra: Mapping[str, str] | None = None, home: str | None = None) -> dict[str, str]:
    env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_COLOR"] = "1"
    if home is not None:
        env["HOME"] = home
        env["TMPDIR"] = home
    if extra:
        env.update(extra)
    return env


def _limits(memory_mb: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` for the child's memory limit, only where the parent cannot set it (no ``prlimit``).

    Python code between fork and exec is unsafe in a threaded grader (an import, a lock another thread
    held, a signal handler: the child fails with "Exception occurred in preexec_fn"), so on Linux the
    child runs none: :func:`limit_child` sets the limit from the parent right after the start.
    """
    if not memory_mb or hasattr(resource, "prlimit"):
        return None
    limit = memory_mb * 1024 * 1024
    setrlimit, rlimit_as = resource.setrlimit, resource.RLIMIT_AS

    def apply() -> None:
        with contextlib.suppress(ValueError, OSError):
            setrlimit(rlimit_as, (limit, limit))

    return apply


def limit_child(pid: int, memory_mb: int | None) -> None:
    """Cap a just-started child's address space from the parent (Linux), before it can grow far."""
    if memory_mb and hasattr(resource, "prlimit"):
        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))


def read_capped(fh: IO[bytes], limit: int) -> str:
    """Up to ``limit`` characters of a captured output file, marked when cut."""
    fh.seek(0)
    data = fh.read(limit * 4 + 1)
    text = data.decode("utf-8", errors="replace")
    if len(text) > limit:
        text = text[:limit] + f"\n... [output truncated after {limit:,} characters]"
    return text


def kill_group(pid: int) -> None:
    """SIGKILL the process group that ``pid`` leads (a program and what it started); already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """Give ``proc`` (already asked to end) ``grace_s`` to exit, then kill its group; it is reaped either way."""
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait(timeout=5)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    kill_group(proc.pid)
    with contextlib.suppress(Exception):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


def run(
    command: Sequence[str],
    *,
    cwd: Path | str,
    timeout: float = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    raise_on_timeout: bool = True,
    max_output_chars: int = MAX_OUTPUT_CHARS,
    label: str | None = None,
) -> ProcessResult:
    """Run ``command`` to completion under the limits and return its captured result.

    On timeout the whole process group is killed; by default that raises StudentProgramTimeout
    (the check becomes ``error``), or returns a result with ``timed_out=True`` when asked.
    """
    cmd = [str(c) for c in command]
    shown = label or " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd))
    with (
        tempfile.TemporaryDirectory(prefix="capstone-run-") as home,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=str(cwd),
                env=scrubbed_env(env, home=home),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_limits(memory_mb),
            )
            limit_child(proc.pid, memory_mb)
        except FileNotFoundError:
            raise GraderError(f"could not start `{shown}`: {cmd[0]} was not found") from None
        except OSError as exc:
            raise GraderError(f"could not start `{shown}`: {exc.strerror}") from None
        timed_out = False
        try:
            proc.communicate(input=stdin.encode() if stdin is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        finally:
            # A program that leaves children behind (a server it started) is cleaned up too.
            kill_group(proc.pid)
        duration = time.perf_counter() - started
        result = ProcessResult(
            command=cmd,
            returncode=proc.returncode if proc.returncode is not None else -9,
            stdout=read_capped(out, max_output_chars),
            stderr=read_capped(err, max_output_chars),
            duration_s=duration,
            timed_out=timed_out,
        )
    if timed_out and raise_on_timeout:
        raise StudentProgramTimeout(
            f"`{shown}` did not finish within {timeout:g} s and was stopped; make it finish "
            "(no endless loops, no waiting for input or the network)"
        )
    return result


def run_tool(
    command: Sequence[str],
    *,
    cwd: Path | str,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> ProcessResult:
    """Run one of the grader's own tools (promtool, hadolint, terraform) in a scrubbed environment."""
    return run(command, cwd=cwd, timeout=timeout, memory_mb=None, env=env, stdin=stdin, raise_on_timeout=False)
