"""A process armed with fast_exit still ends the way a normal exit would, minus the teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.engine.conftest import KIT_ROOT


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=KIT_ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_exit_code_output_and_later_handlers_survive() -> None:
    result = _python(
        """
        import atexit, logging, sys
        from graders import fast_exit
        fast_exit.arm(code=1)
        atexit.register(lambda: print("handler registered later ran"))
        logging.basicConfig(stream=sys.stderr)
        logging.getLogger("kit").warning("logged before exit")
        sys.stdout.write("unflushed line")
        fast_exit.set_code(7)
        sys.exit(7)
        """
    )
    assert result.returncode == 7
    assert "unflushed line" in result.stdout and "handler registered later ran" in result.stdout
    assert "logged before exit" in result.stderr


def test_an_uncaught_exception_still_exits_1_with_its_traceback() -> None:
    result = _python(
        """
        from graders import fast_exit
        fast_exit.arm(code=1)
        raise RuntimeError("grader bug")
        """
    )
    assert result.returncode == 1 and "RuntimeError: grader bug" in result.stderr


def _capstone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", *args], cwd=KIT_ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_console_entry_point_keeps_every_exit_status(tmp_path) -> None:
    missing = _capstone("grade", str(tmp_path / "no-such-submission"))
    assert missing.returncode == 1 and "not a folder" in missing.stderr
    usage = _capstone("grade", "--format", "pdf")  # argparse exits from inside main()
    assert usage.returncode == 2 and "invalid choice: 'pdf'" in usage.stderr
    version = _capstone("--version")
    assert version.returncode == 0 and "capstone-kit" in version.stdout
    listed = _capstone("labs")
    assert listed.returncode == 0 and "lab08" in listed.stdout
