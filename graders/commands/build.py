"""``capstone build``: regenerate template/ (and copier.yml) from reference_solution/; ``--check`` only compares."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from graders.commands.common import add_kit_option, error, kit_checkout
from graders.engine.labs import LabMetadataError
from graders.instructor import build


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "build",
        help="regenerate the student template from the reference solution",
        description="Turn reference_solution/ into template/: solution regions become TODO prompts, the example "
        "plant's values become template variables. --check exits 1 when template/ is stale.",
    )
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when template/ is stale")
    p.add_argument(
        "--keep-solutions",
        type=Path,
        metavar="DIR",
        help="write the template variant that keeps the solutions (its render equals the reference) to DIR",
    )
    add_kit_option(p)
    p.set_defaults(func=run)


def ignored_by_git(kit: Path) -> list[str]:
    """Template files that git would leave out of a commit (a .gitignore inside template/ matches them).

    The template's own .gitignore (e.g. ``.env.*``) also applies to the kit's checkout, so a file such
    as ``.env.example.jinja`` is silently missing from a clone unless it is added with ``git add -f``.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--", "template"],
            cwd=kit,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if listed.returncode != 0:  # not a git checkout
        return []
    return [line for line in listed.stdout.splitlines() if "__pycache__/" not in line and not line.endswith(".pyc")]


def run(args: argparse.Namespace) -> int:
    args.kit = kit_checkout(args.kit)
    if args.kit is None:
        return 1
    started = time.perf_counter()
    try:
        result = build.build(args.kit, keep_solutions=args.keep_solutions is not None)
    except build.BuildError as exc:
        return error("the template cannot be built:\n  " + "\n  ".join(exc.problems))
    except LabMetadataError as exc:
        return error(str(exc))
    elapsed = time.perf_counter() - started
    for warning in result.warnings:
        print(f"capstone: warning: {warning}", file=sys.stderr)
    if args.keep_solutions is not None:
        build.stage_template(args.kit, args.keep_solutions, result)
        print(f"wrote the solutions-kept template to {args.keep_solutions} ({build.summary(result)})")
        return 0
    if args.check:
        stale = build.differences(args.kit, result)
        if stale:
            print("template/ is stale; run `capstone build` and commit the result:", file=sys.stderr)
            for line in stale[:50]:
                print(f"  {line}", file=sys.stderr)
            if len(stale) > 50:
                print(f"  ... and {len(stale) - 50} more", file=sys.stderr)
            return 1
        print(f"template/ is up to date ({build.summary(result)}, built in {elapsed:.2f} s)")
        return 0
    changed = build.write(args.kit, result)
    print(f"built template/ ({build.summary(result)}) in {elapsed:.2f} s; {len(changed)} path(s) changed")
    ignored = ignored_by_git(args.kit)
    if ignored:
        print(
            f"capstone: warning: git ignores {len(ignored)} template file(s), so a commit would leave them out; "
            "add them with `git add -f`:",
            file=sys.stderr,
        )
        for rel in ignored:
            print(f"  {rel}", file=sys.stderr)
    return 0
