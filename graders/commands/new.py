"""``capstone new DEST``: render the student template of the kit checkout into DEST (as a student would)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from graders.commands.common import add_kit_option, error, kit_checkout
from graders.instructor import build, render


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "new",
        help="render the student template of the kit checkout you are in into a new folder",
        description="Render template/ of the kit checkout around the current folder with copier (answers: the "
        "example plant, overridden by --data). DEST must not exist or be an empty folder.",
    )
    p.add_argument("dest", type=Path, metavar="DEST", help="the folder to create")
    p.add_argument(
        "--data", action="append", default=[], metavar="KEY=VALUE", help="an answer, e.g. --data plant_code=MTY02"
    )
    p.add_argument("--tool", choices=["copier", "cookiecutter"], default="copier", help="render with (default: copier)")
    p.add_argument("--fresh", action="store_true", help="build the template from reference_solution/ first (in memory)")
    add_kit_option(p)
    p.set_defaults(func=run)


STALE_CHECK_TIMEOUT_S = 60


def _start_stale_check(kit: Path) -> subprocess.Popen[bytes]:
    """``capstone build --check`` in a child process: it runs on the other core while copier renders."""
    command = [sys.executable, "-m", "graders.cli", "build", "--check", "--kit", str(kit)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(check: subprocess.Popen[bytes] | None) -> None:
    """End the staleness check early (the render failed, or the check hangs)."""
    if check is not None:
        check.kill()
        check.wait()


def _warn_if_stale(check: subprocess.Popen[bytes]) -> None:
    """Say so when template/ no longer matches reference_solution/ (the render still used template/)."""
    try:
        stale = check.wait(timeout=STALE_CHECK_TIMEOUT_S) != 0
    except subprocess.TimeoutExpired:
        _stop(check)
        print("capstone: note: could not check whether template/ is stale (`capstone build --check`)", file=sys.stderr)
        return
    if stale:
        print(
            "capstone: warning: template/ is stale (`capstone build` updates it); rendered it as it is",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    args.kit = kit_checkout(args.kit)
    if args.kit is None:
        return 1
    started = time.perf_counter()
    check: subprocess.Popen[bytes] | None = None
    try:
        render.check_destination(args.dest)
        answers = {**render.example_answers(args.kit), **render.parse_data(args.data, args.kit)}
        render.validate(answers, args.kit)
        result = build.build(args.kit) if args.fresh else None
        check = _start_stale_check(args.kit) if result is None else None
        with render.staged_source(args.kit, result) as source:
            if args.tool == "copier":
                project = render.render_copier(source, args.dest.absolute(), answers)
                render.record_source(project, args.kit)
            else:
                args.dest.mkdir(parents=True, exist_ok=True)
                project = render.render_cookiecutter(source, args.dest.absolute().parent / ".capstone-new", answers)
                for item in project.iterdir():
                    item.replace(args.dest / item.name)
                project.rmdir()
                project.parent.rmdir()
                project = args.dest
    except render.RenderError as exc:
        _stop(check)
        return error(str(exc))
    except build.BuildError as exc:
        _stop(check)
        return error("the template cannot be built:\n  " + "\n  ".join(exc.problems))
    if check is not None:
        _warn_if_stale(check)
    print(f"rendered {project} with {args.tool} in {time.perf_counter() - started:.2f} s")
    return 0
