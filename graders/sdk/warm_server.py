"""The fork server of :mod:`graders.sdk.warm`: runs under the *student's* interpreter, never in the grader.

It imports the heavy libraries a lab's programs use (torch, MLflow, ...) once, then forks one child per
request and runs ``python -m MODULE ARGS`` in it the way a fresh interpreter would: its own session
(so a timeout kills its whole process group), the run's working directory, environment and import
path, an address-space limit, stdin from /dev/null and stdout/stderr into the files the grader
named, and interpreter shutdown (threads joined, ``atexit`` handlers run).

A run is refused (the grader then starts a cold process) when the submission has a module that would
shadow one the server already imported, because a fresh interpreter would have imported the
student's file instead.

Protocol: JSON lines on the pipes the grader holds. In: ``{"id", "module", "argv", "cwd", "env",
"stdout", "stderr", "memory_mb"}``. Out: ``{"ready": true, "seconds"}`` or ``{"ready": false,
"error"}`` once; then per request ``{"id", "pid"}`` or ``{"id", "cold": reason}``, and later
``{"id", "exit": status}`` (negative: killed by that signal). The server exits when its input closes.

Standard library only, and Python 3.10 compatible: it is read by the grader and passed to ``-c``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import time
from typing import Any, NoReturn


def _send(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _preload(names: list[str]) -> float:
    """Import ``names``; one the interpreter does not have is skipped (a program using it fails cold too)."""
    import importlib

    started = time.perf_counter()
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name.split(".", 1)[0]:
                raise  # a package that is there but broken: runs go cold and meet the error themselves
    return time.perf_counter() - started


def _loaded_top_level() -> set[str]:
    return {name.split(".", 1)[0] for name in sys.modules if not name.startswith("__")}


def _module_names(folder: str) -> set[str]:
    """Top-level modules a path entry would provide: ``x.py``, ``x.pyc``, ``x/__init__.py``, ``x.*.so``."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return set()
    names = set()
    for entry in entries:
        stem, dot, suffix = entry.partition(".")
        if dot and suffix.rsplit(".", 1)[-1] in ("py", "pyc", "so"):
            names.add(stem)
        elif not dot and os.path.isfile(os.path.join(folder, entry, "__init__.py")):
            names.add(entry)
    return names


def _path_entries(request: dict[str, Any]) -> list[str]:
    """What a fresh ``python -m`` puts before the standard path: the working directory, then PYTHONPATH."""
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    return [request["cwd"], *[os.path.join(request["cwd"], p) for p in extra]]


def _shadowed(request: dict[str, Any], loaded: set[str]) -> list[str]:
    clashes: set[str] = set()
    for folder in _path_entries(request):
        clashes |= _module_names(folder) & loaded
    return sorted(clashes)


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _child(request: dict[str, Any], protocol_fds: tuple[int, int]) -> NoReturn:
    """Become the student program (never returns)."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if request.get("memory_mb"):
            import resource

            limit = int(request["memory_mb"]) * 1024 * 1024
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for source, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(source, target)
            os.close(source)
        for fd in protocol_fds:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[:0] = _path_entries(request)
        import importlib
        import tempfile

        importlib.invalidate_caches()
        tempfile.tempdir = None  # the run's TMPDIR, not the server's
        # Random state needs nothing here: `random` and numpy reseed themselves in a forked child.
        sys.argv = ["-m", *request["argv"]]
        import runpy

        try:
            # Exactly what `python -m` calls.
            runpy._run_module_as_main(request["module"], alter_argv=True)  # type: ignore[attr-defined]
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        import threading

        with contextlib.suppress(BaseException):
            # A fresh interpreter joins its non-daemon threads before exiting.
            threading._shutdown()  # type: ignore[attr-defined]
        import atexit

        atexit._run_exitfuncs()
    except BaseException as exc:  # the server's own part failed: say so where the grader reads output
        with contextlib.suppress(OSError):
            os.write(2, f"the grader's fork server could not run the program: {exc!r}\n".encode())
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _status(raw: int) -> int:
    if os.WIFSIGNALED(raw):
        return -os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw)


def serve(preload: list[str]) -> None:
    # The protocol keeps its own descriptors; 0 and 1 point at /dev/null so no library print corrupts it.
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    try:
        seconds = _preload(preload)
    except BaseException as exc:
        _send(wfd, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    loaded = _loaded_top_level()
    import gc

    # The preloaded modules live as long as any run: with them frozen, a run's collections do not walk
    # millions of objects (a fresh interpreter would; about 1.5 s of CPU over lab01's four runs) nor
    # copy the pages that hold them. Garbage made by the imports is collected first, not frozen.
    gc.collect()
    gc.freeze()
    _send(wfd, {"ready": True, "seconds": round(seconds, 3)})
    children: dict[int, int] = {}  # pid -> request id
    pending = b""
    grader_there = True
    while grader_there or children:
        if grader_there:
            ready, _, _ = select.select([rfd], [], [], 0.02)
            chunk = os.read(rfd, 65536) if ready else None
            if chunk == b"":
                grader_there = False  # closed, or the grader died: nobody will read what runs now
                _stop_all(children)
            pending += chunk or b""
            while grader_there and b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                clashes = _shadowed(request, loaded)
                if clashes:
                    grader_there = _reply(wfd, {"id": request["id"], "cold": ", ".join(clashes)})
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request, (rfd, wfd))
                children[pid] = request["id"]
                grader_there = _reply(wfd, {"id": request["id"], "pid": pid})
            if not grader_there:
                _stop_all(children)
        else:
            time.sleep(0.02)
        while children:
            pid, raw = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in children:
                request_id = children.pop(pid)
                if grader_there:
                    grader_there = _reply(wfd, {"id": request_id, "exit": _status(raw)})
                    if not grader_there:
                        _stop_all(children)


def _reply(fd: int, message: dict[str, Any]) -> bool:
    """Send ``message``; False when the grader is gone (its end of the pipe is closed)."""
    try:
        _send(fd, message)
    except OSError:
        return False
    return True


def _stop_all(children: dict[int, int]) -> None:
    """Kill every run still going, with whatever it started: without the grader, no one enforces limits."""
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):  # forked a moment ago, before its setsid()
            os.kill(pid, signal.SIGKILL)

if __name__ == "__main__":
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # `-c` put the server's working directory first; a run adds its own
    serve(sys.argv[1:])
    # Every run has ended and been reported: skip the interpreter's teardown of torch and MLflow
    # (about a second the grader would wait for).
    os._exit(0)
