"""A run forked from the warm interpreter behaves like a fresh ``python -m`` under the same limits, and
falls back to a fresh one whenever it could not stand in for it."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graders.sdk import GraderError, process
from graders.sdk.process import StudentProgramTimeout
from graders.sdk.warm import WarmPython
from tests.engine.conftest import KIT_ROOT, still_running_after

# `decimal`, which the programs below never import themselves: preloading it proves the server's
# imports reach the runs, and a submission's own `decimal.py` must shadow it. `random` and numpy: their
# generators are seeded when imported, so every fork would share one state unless reseeded. A module
# the interpreter does not have is skipped.
PRELOAD = ["decimal", "random", "numpy", "no_such_module_for_the_grader"]

PROBE = """
import json, os, random, sys, tempfile
print(json.dumps({
    "argv": sys.argv[1:],
    "argv0": os.path.basename(sys.argv[0]),
    "name": __name__,
    "cwd": os.getcwd(),
    "path": sys.path[:3],
    "env": sorted(os.environ),
    "secret": os.environ.get("CAPSTONE_TEST_SECRET"),
    "tmp": tempfile.gettempdir(),
    "random": random.random(),
    "numpy_random": float(sys.modules["numpy"].random.random()) if "numpy" in sys.modules else None,
    "decimal_loaded": "decimal" in sys.modules,
    "decimal_file": getattr(sys.modules.get("decimal"), "__file__", None),
}))
sys.exit(int(os.environ.get("PROBE_EXIT", "0")))
"""


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _package(tmp_path / "project", {"src/probe_pkg/__init__.py": "", "src/probe_pkg/probe.py": PROBE})


def _env(project: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": f"{project / 'src'}:{project}", **extra}


@pytest.fixture
def warm(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CAPSTONE_TEST_SECRET", "grader-only")
    monkeypatch.setenv("GITHUB_OUTPUT", "/tmp/grader-output")
    with WarmPython(sys.executable, PRELOAD, {"OMP_NUM_THREADS": "1"}) as server:
        yield server


def _probe(result: process.ProcessResult) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_warm_run_sees_what_a_fresh_interpreter_sees(warm: WarmPython, project: Path) -> None:
    env = _env(project, PROBE_EXIT="3")
    hot = warm.run_module("probe_pkg.probe", ["--weak", "x y"], cwd=project, env=env, timeout=30)
    cold = process.run([sys.executable, "-m", "probe_pkg.probe", "--weak", "x y"], cwd=project, env=env, timeout=30)
    assert warm.warm_runs == 1 and warm.cold_runs == []
    assert hot.returncode == cold.returncode == 3
    seen, expected = _probe(hot), _probe(cold)
    for key in ("argv", "argv0", "name", "cwd", "path", "env", "secret"):
        assert seen[key] == expected[key], key
    assert seen["argv"] == ["--weak", "x y"] and seen["name"] == "__main__"
    assert seen["secret"] is None and "GITHUB_OUTPUT" not in seen["env"]
    assert seen["tmp"] != expected["tmp"] and Path(seen["tmp"]).name.startswith("capstone-run-")
    assert seen["decimal_loaded"] and not expected["decimal_loaded"]  # the server's import reached the run
    assert seen["numpy_random"] is not None and expected["numpy_random"] is None


def test_each_warm_run_gets_fresh_random_seeds(warm: WarmPython, project: Path) -> None:
    seen = [_probe(warm.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30)) for _ in range(3)]
    assert len({s["random"] for s in seen}) == 3
    assert len({s["numpy_random"] for s in seen}) == 3 and seen[0]["numpy_random"] is not None
    assert warm.cold_runs == []


def test_a_submission_module_that_shadows_a_preloaded_one_runs_cold(warm: WarmPython, project: Path) -> None:
    (project / "src" / "decimal.py").write_text("SHADOW = True\n", encoding="utf-8")
    result = warm.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30)
    assert _probe(result)["decimal_file"] is None  # nothing imported it: a fresh interpreter ran
    assert warm.warm_runs == 0
    assert len(warm.cold_runs) == 1 and "decimal" in warm.cold_runs[0] and "shadow" in warm.cold_runs[0]


def test_a_namespace_folder_does_not_count_as_shadowing(warm: WarmPython, project: Path) -> None:
    (project / "decimal").mkdir()  # no __init__.py: a fresh interpreter still imports the real module
    warm.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30)
    assert warm.warm_runs == 1 and warm.cold_runs == []


def test_exit_paths_match_python(warm: WarmPython, tmp_path: Path) -> None:
    project = _package(
        tmp_path / "exits",
        {
            "crash.py": "raise ValueError('bad input in crash.py')\n",
            "message.py": "import sys\nsys.exit('stopped: params.yaml has no train section')\n",
            "clean.py": "import sys\nprint('done')\nsys.exit(None)\n",
            "shutdown.py": """
                import atexit, threading, time
                atexit.register(lambda: print("atexit ran", flush=True))
                def late():
                    time.sleep(0.3)
                    print("thread finished", flush=True)
                threading.Thread(target=late).start()
            """,
        },
    )
    crash = warm.run_module("crash", cwd=project, env={}, timeout=30)
    assert crash.returncode == 1 and "ValueError: bad input in crash.py" in crash.stderr
    message = warm.run_module("message", cwd=project, env={}, timeout=30)
    assert message.returncode == 1 and "params.yaml has no train section" in message.stderr
    clean = warm.run_module("clean", cwd=project, env={}, timeout=30)
    assert clean.returncode == 0 and clean.stdout.strip() == "done"
    shutdown = warm.run_module("shutdown", cwd=project, env={}, timeout=30)
    assert shutdown.stdout.split() == ["thread", "finished", "atexit", "ran"]
    assert warm.warm_runs == 4 and warm.cold_runs == []


def test_a_run_that_never_ends_is_stopped_with_its_children(warm: WarmPython, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    project = _package(
        tmp_path / "hang",
        {
            "hang.py": f"""
                import subprocess, sys, time
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
                open({str(pid_file)!r}, "w").write(str(child.pid))
                time.sleep(600)
            """
        },
    )
    started = time.perf_counter()
    with pytest.raises(StudentProgramTimeout, match="did not finish within 2 s"):
        warm.run_module("hang", cwd=project, env={}, timeout=2)
    assert time.perf_counter() - started < 10
    assert not still_running_after(int(pid_file.read_text()))
    assert warm.run_module("probe_pkg.probe", cwd=tmp_path, env={}, timeout=30).returncode == 1  # still serving
    assert warm.cold_runs == []


def test_closing_the_server_stops_the_runs_still_going(tmp_path: Path) -> None:
    """When the grader ends (or dies: its pipe closes the same way), no student program outlives it."""
    import threading

    project, pid_file = _orphan_project(tmp_path)
    outcome: list[BaseException | process.ProcessResult] = []
    server = WarmPython(sys.executable, PRELOAD).start()

    def run() -> None:
        try:
            outcome.append(server.run_module("orphan", cwd=project, env={}, timeout=120))
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    _wait_until_started(pid_file)
    started = time.perf_counter()
    server.close()
    runner.join(timeout=30)
    assert time.perf_counter() - started < 15 and not runner.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], GraderError)  # not re-run cold for 120 s
    assert "the grading it belonged to ended" in str(outcome[0])
    for pid in map(int, pid_file.read_text().split()):
        assert not still_running_after(pid)


GRADER = """
import sys
from graders.sdk.warm import WarmPython
server = WarmPython(sys.executable, ["decimal"]).start()
print(server._proc.pid, flush=True)
server.run_module("orphan", cwd=sys.argv[1], env={}, timeout=600)
"""


def test_a_grader_killed_mid_run_leaves_no_program_behind(tmp_path: Path) -> None:
    """A batch that kills a grading at its time limit must not leave its student programs running."""
    import subprocess

    project, pid_file = _orphan_project(tmp_path)
    grader = subprocess.Popen(
        [sys.executable, "-c", GRADER, str(project)],
        cwd=KIT_ROOT,
        env={**os.environ, "PYTHONPATH": str(KIT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert grader.stdout is not None
    server_pid = int(grader.stdout.readline())
    _wait_until_started(pid_file)
    grader.kill()
    grader.wait(timeout=10)
    for pid in [server_pid, *map(int, pid_file.read_text().split())]:
        assert not still_running_after(pid), pid


def test_the_memory_limit_applies_to_warm_runs(warm: WarmPython, tmp_path: Path) -> None:
    project = _package(tmp_path / "hog", {"hog.py": "block = bytearray(3 * 1024 ** 3)\nprint('allocated')\n"})
    result = warm.run_module("hog", cwd=project, env={}, timeout=30, memory_mb=1024)
    assert result.returncode != 0 and "MemoryError" in result.stderr and "allocated" not in result.stdout
    assert warm.warm_runs == 1


def test_when_the_server_dies_runs_go_cold_and_still_grade(warm: WarmPython, project: Path) -> None:
    assert warm.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30).returncode == 0
    assert warm._proc is not None
    os.killpg(warm._proc.pid, signal.SIGKILL)
    warm._proc.wait(timeout=10)
    result = warm.run_module("probe_pkg.probe", cwd=project, env=_env(project, PROBE_EXIT="4"), timeout=30)
    assert result.returncode == 4 and _probe(result)["argv"] == []
    assert warm.warm_runs == 1 and warm.cold_runs == ["the fork server stopped"]


def _interpreter_with(tmp_path: Path, site: dict[str, str]) -> str:
    """A student interpreter whose environment also has the packages in ``site`` (a wrapper script)."""
    folder = _package(tmp_path / "site", site)
    python = tmp_path / "student-python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="$PYTHONPATH:{folder}" exec {sys.executable} "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    return str(python)


def test_a_library_that_cached_the_servers_temp_folder_gives_the_run_its_own(project: Path, tmp_path: Path) -> None:
    python = _interpreter_with(tmp_path, {"caches_tmp.py": "import tempfile\nCACHED = tempfile.gettempdir()\n"})
    with WarmPython(python, ["caches_tmp"]) as server:
        result = server.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30)
    assert server.warm_runs == 1
    assert Path(_probe(result)["tmp"]).name.startswith("capstone-run-")


def test_the_timeout_counts_the_programs_time_not_the_servers_imports(project: Path, tmp_path: Path) -> None:
    python = _interpreter_with(tmp_path, {"slow_import.py": "import time\ntime.sleep(3)\n"})
    started = time.perf_counter()
    with WarmPython(python, ["slow_import"]) as server:  # asked at once: the server is still importing
        result = server.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=2)
        waited = time.perf_counter() - started
    assert result.returncode == 0 and server.warm_runs == 1
    assert waited >= 3  # the run waited for the server's 3 s import...
    assert result.duration_s <= waited - 3  # ...and its duration, which the timeout counts, leaves that wait out


def test_a_broken_package_in_the_interpreter_makes_every_run_cold(project: Path, tmp_path: Path) -> None:
    python = _interpreter_with(tmp_path, {"brokenpkg/__init__.py": "raise RuntimeError('half installed')\n"})
    with WarmPython(python, ["brokenpkg"]) as server:
        result = server.run_module("probe_pkg.probe", cwd=project, env=_env(project), timeout=30)
    assert result.returncode == 0 and server.warm_runs == 0
    assert server.cold_runs and "could not import brokenpkg" in server.cold_runs[0]
    assert "half installed" in server.cold_runs[0]


def _orphan_project(tmp_path: Path) -> tuple[Path, Path]:
    """A program that starts a child and waits forever; both pids go to the returned file."""
    pid_file = tmp_path / "child.pid"
    project = _package(
        tmp_path / "orphan",
        {
            "orphan.py": f"""
                import os, subprocess, sys, time
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
                open({str(pid_file)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
                time.sleep(600)
            """
        },
    )
    return project, pid_file


def _wait_until_started(pid_file: Path) -> None:
    deadline = time.time() + 30
    while not pid_file.exists() or len(pid_file.read_text().split()) < 2:
        assert time.time() < deadline, "the program never started"
        time.sleep(0.05)
