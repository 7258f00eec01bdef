"""``capstone verify``: reference at full marks, a fresh starter under 15%, every known mistake caught,
every correct variant at full marks, every requirement of the handout covered by a check and a mutant."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from graders.commands.common import add_kit_option, error, kit_checkout
from graders.engine.cache import GradeCache, user_cache_dir
from graders.engine.labs import LabMetadataError
from graders.instructor import verify as verify_mod

DEFAULT_JOBS = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check the graders: reference full marks, starter under 15%%, every mutant caught, every variant "
        "at full marks, every requirement covered",
        description="Render a fresh starter, grade it and the reference solution, run every lab's mutants "
        "(mutants.yaml) and variants (variants.yaml), check each lab's requirement map (requirements.yaml) "
        "and print one table. Grades whose inputs did not change are read from a cache, so a second run "
        "re-grades only the labs you edited. Exits 1 when any expectation fails.",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--lab", dest="labs", action="append", metavar="ID", help="verify only this lab (repeatable)")
    p.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"worker processes grading mutants and variants side by side (default: {DEFAULT_JOBS})",
    )
    p.add_argument("--no-mutants", action="store_true", help="skip the mutants (quick check)")
    p.add_argument("--no-variants", action="store_true", help="skip the variants (quick check)")
    p.add_argument("--require-all", action="store_true", help="fail when a lab has no grader suite yet")
    p.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=f"where grades are kept between runs (default: {user_cache_dir()})",
    )
    p.add_argument("--no-cache", action="store_true", help="grade everything again and keep nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_kit_option(p)
    p.set_defaults(func=run)


def _progress(quiet: bool) -> verify_mod.Progress:
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"verify {time.monotonic() - started:6.1f}s  {line}", file=sys.stderr, flush=True)

    return verify_mod.silent if quiet else say


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    if args.no_cache and args.cache_dir is not None:
        return error("--cache-dir and --no-cache exclude each other")
    args.kit = kit_checkout(args.kit)
    if args.kit is None:
        return 1
    cache = None if args.no_cache else GradeCache(args.cache_dir or user_cache_dir())
    if cache is not None and not args.quiet:
        print(f"capstone: grades cached in {cache.directory} (--no-cache to grade everything)", file=sys.stderr)
    try:
        result = verify_mod.verify(
            args.kit,
            args.labs,
            jobs=args.jobs,
            require_all=args.require_all,
            run_mutants=not args.no_mutants,
            run_variants=not args.no_variants,
            cache=cache,
            progress=_progress(args.quiet),
        )
    except LabMetadataError as exc:
        return error(str(exc))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(verify_mod.render_table(result), end="")
    return 0 if result.ok else 1
