"""``capstone verify``: reference at full marks, a fresh starter under 15%, every known mistake caught,
every correct variant at full marks."""

from __future__ import annotations

import argparse
import json

from graders.commands.common import add_kit_option, error, kit_checkout
from graders.engine.labs import LabMetadataError
from graders.instructor import verify as verify_mod


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check the graders: reference full marks, starter under 15%%, every mutant caught, every variant "
        "at full marks",
        description="Render a fresh starter, grade it and the reference solution, run every lab's mutants "
        "(mutants.yaml) and variants (variants.yaml) and print one table. Exits 1 when any expectation fails.",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--lab", dest="labs", action="append", metavar="ID", help="verify only this lab (repeatable)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="mutants and variants run at once (default: 1)")
    p.add_argument("--no-mutants", action="store_true", help="skip the mutants (quick check)")
    p.add_argument("--no-variants", action="store_true", help="skip the variants (quick check)")
    p.add_argument("--require-all", action="store_true", help="fail when a lab has no grader suite yet")
    add_kit_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    args.kit = kit_checkout(args.kit)
    if args.kit is None:
        return 1
    try:
        result = verify_mod.verify(
            args.kit,
            args.labs,
            jobs=args.jobs,
            require_all=args.require_all,
            run_mutants=not args.no_mutants,
            run_variants=not args.no_variants,
        )
    except LabMetadataError as exc:
        return error(str(exc))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(verify_mod.render_table(result), end="")
    return 0 if result.ok else 1
