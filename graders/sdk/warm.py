"""Warm student interpreters: run ``python -m MODULE`` many times without paying for its imports each time.

Lab 01 runs the student's MLflow programs four times; each cold start imports torch, MLflow and
matplotlib again (about 4 s of CPU of a 5-7 s run). :class:`WarmPython` starts one fork server
(:mod:`graders.sdk.warm_server`) under the student's interpreter that imports them once, then forks a
child per run. Every run keeps the guarantees of :func:`graders.sdk.process.run`: the same scrubbed
environment (the server itself starts from it), a wall-clock timeout that kills the run's process
group, an address-space limit, captured and truncated output.

Whenever the warm path cannot give a run exactly what a fresh interpreter would (the server failed to
start or to import, the submission has a module that shadows one the server imported, the server
died), the run falls back to a cold :func:`~graders.sdk.process.run`, so the score never depends on
it; ``cold_runs`` records why, for the benchmarks and tests.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from graders.sdk import process
from graders.sdk.checks import GraderError
from graders.sdk.process import ProcessResult, StudentProgramTimeout

SERVER_SOURCE = Path(__file__).with_name("warm_server.py")
START_TIMEOUT_S = 120.0


class WarmPython:
    """A fork server under ``python`` that has imported ``preload``; use as a context manager.

    ``env`` is the environment the server starts with (scrubbed like every student program's): the
    variables that libraries read when they are imported (``OMP_NUM_THREADS``, ``MPLBACKEND``) must be
    the same as the runs', since the runs inherit what those imports did.
    """

    def __init__(self, python: str, preload: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.python = python
        self.preload = list(preload)
        self.env = dict(env or {})
        self.cold_runs: list[str] = []  # why each cold run was cold
        self.warm_runs = 0
        self.import_seconds: float | None = None
        self._home = tempfile.TemporaryDirectory(prefix="capstone-warm-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._failure: str | None = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._reader: threading.Thread | None = None
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> WarmPython:
        """Start the server; returns at once (imports happen in the background)."""
        env = process.scrubbed_env({k: v for k, v in self.env.items() if k != "PYTHONPATH"}, home=self._home.name)
        try:
            self._proc = subprocess.Popen(
                [self.python, "-c", SERVER_SOURCE.read_text(encoding="utf-8"), *self.preload],
                cwd=self._home.name,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            self._fail(f"the fork server could not start ({exc})")
            return self
        self._reader = threading.Thread(target=self._read_replies, name="warm-python-replies", daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        """Stop the server (and any run still going) and remove its home folder."""
        self._closing = True
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # the server's cue to stop its runs and exit
            process.stop_group(proc)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._home.cleanup()

    def __enter__(self) -> WarmPython:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running ---------------------------------------------------------------------------------
    def run_module(
        self,
        module: str,
        args: Sequence[str] = (),
        *,
        cwd: Path | str,
        timeout: float = process.DEFAULT_TIMEOUT_S,
        memory_mb: int | None = process.DEFAULT_MEMORY_MB,
        env: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> ProcessResult:
        """``python -m module args`` in ``cwd``: warm when possible, cold otherwise; as process.run."""
        shown = label or " ".join(["python", "-m", module, *args])
        why_cold = self._wait_ready(time.perf_counter() + START_TIMEOUT_S)
        if why_cold is None:
            with tempfile.TemporaryDirectory(prefix="capstone-run-") as home:
                outcome = self._run_warm(module, args, cwd, timeout, memory_mb, env, shown, home)
            if isinstance(outcome, ProcessResult):
                self.warm_runs += 1
                return outcome
            why_cold = outcome
        if self._closing:  # the grading this run belonged to has ended: nothing is to be re-run cold
            raise GraderError(f"`{shown}` was stopped because the grading it belonged to ended")
        self.cold_runs.append(why_cold)
        return process.run(
            [self.python, "-m", module, *args], cwd=cwd, timeout=timeout, memory_mb=memory_mb, env=env, label=shown
        )

    def _run_warm(
        self,
        module: str,
        args: Sequence[str],
        cwd: Path | str,
        timeout: float,
        memory_mb: int | None,
        env: Mapping[str, str] | None,
        shown: str,
        home: str,
    ) -> ProcessResult | str:
        """The result of a forked run, or why the run must be cold."""
        started = time.perf_counter()  # the program's time starts now, not while the server imported
        out, err = Path(home) / ".stdout", Path(home) / ".stderr"
        replies, request_id = self._send(
            {
                "module": module,
                "argv": [str(a) for a in args],
                "cwd": str(Path(cwd).resolve()),
                "env": process.scrubbed_env(env, home=home),
                "stdout": str(out),
                "stderr": str(err),
                "memory_mb": memory_mb or 0,
            }
        )
        if replies is None:
            return self._failure or "the fork server stopped"
        try:
            first = replies.get(timeout=30)
            if "cold" in first:
                return f"the submission's module(s) {first['cold']} would shadow what the fork server imported"
            if "pid" not in first:
                return first.get("error", "the fork server stopped")
            pid = int(first["pid"])
            timed_out = False
            try:
                final = replies.get(timeout=max(0.0, started + timeout - time.perf_counter()))
            except queue.Empty:
                timed_out = True
                process.kill_group(pid)
                final = replies.get(timeout=30)
            process.kill_group(pid)  # what the program left behind (a server it started) goes too
            if "exit" not in final:
                return final.get("error", "the fork server stopped")
        except queue.Empty:
            return "the fork server stopped answering"
        finally:
            self._replies.pop(request_id, None)
        result = ProcessResult(
            command=[self.python, "-m", module, *args],
            returncode=int(final["exit"]),
            stdout=_read_capped(out),
            stderr=_read_capped(err),
            duration_s=time.perf_counter() - started,
            timed_out=timed_out,
        )
        if timed_out:
            raise StudentProgramTimeout(
                f"`{shown}` did not finish within {timeout:g} s and was stopped; make it finish "
                "(no endless loops, no waiting for input or the network)"
            )
        return result

    # -- plumbing --------------------------------------------------------------------------------
    def _wait_ready(self, deadline: float) -> str | None:
        """None once the server has imported everything; otherwise why runs must be cold."""
        if self._proc is None and self._failure is None:
            return "the fork server was not started"
        if not self._ready.wait(timeout=max(0.0, deadline - time.perf_counter())):
            self._fail(f"the fork server did not finish its imports within {START_TIMEOUT_S:g} s")
        return self._failure

    def _send(self, request: dict[str, Any]) -> tuple[queue.Queue[dict[str, Any]] | None, int]:
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            replies: queue.Queue[dict[str, Any]] = queue.Queue()
            self._replies[request_id] = replies
            proc = self._proc
            if proc is None or proc.stdin is None or self._failure:
                return None, request_id
            try:
                proc.stdin.write((json.dumps({"id": request_id, **request}) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                self._fail("the fork server stopped")
                return None, request_id
        return replies, request_id

    def _read_replies(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream: IO[bytes] = self._proc.stdout
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "ready" in message:
                if message["ready"]:
                    self.import_seconds = float(message.get("seconds", 0.0))
                else:
                    self._fail(f"the fork server could not import {', '.join(self.preload)}: {message.get('error')}")
                self._ready.set()
                continue
            replies = self._replies.get(int(message.get("id", -1)))
            if replies is not None:
                replies.put(message)
        self._fail("the fork server stopped")

    def _fail(self, why: str) -> None:
        if self._failure is None:
            self._failure = why
        self._ready.set()
        for replies in list(self._replies.values()):
            replies.put({"error": why})


def _read_capped(path: Path, limit: int = process.MAX_OUTPUT_CHARS) -> str:
    try:
        with path.open("rb") as fh:
            return process.read_capped(fh, limit)
    except OSError:
        return ""
