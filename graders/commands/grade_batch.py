"""``capstone grade-batch``: grade every submission folder of a class into one CSV gradebook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graders.commands.common import add_lab_options, error
from graders.engine.batch import (
    DEFAULT_MEMORY_MB,
    DEFAULT_SUBMISSION_TIMEOUT_S,
    grade_batch,
    parse_shard,
    print_progress,
)
from graders.engine.labs import LabMetadataError, load_catalog, select
from graders.reports.gradebook import render


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("grade-batch", help="grade every submission folder under DIR into a CSV gradebook")
    p.add_argument("directory", type=Path, metavar="DIR", help="folder holding one sub-folder per submission")
    p.add_argument("--output", type=Path, required=True, metavar="FILE", help="the gradebook CSV to write")
    add_lab_options(p)
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="warm workers grading submissions side by side (default: 1)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_SUBMISSION_TIMEOUT_S,
        metavar="SECONDS",
        help=f"wall-clock limit per submission (default: {DEFAULT_SUBMISSION_TIMEOUT_S:g})",
    )
    p.add_argument(
        "--memory",
        type=int,
        default=DEFAULT_MEMORY_MB,
        metavar="MB",
        help=f"memory limit of the grader per submission (default: {DEFAULT_MEMORY_MB})",
    )
    p.add_argument(
        "--shard",
        metavar="K/N",
        help="grade only shard K of N (by a hash of each folder's name: stable as submissions are added); "
        "join the shards' gradebooks with `capstone gradebook merge`",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="grade each submission in a fresh `capstone grade` process instead of a fork of a warm worker "
        "(slower: every submission imports the grader stack again)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.directory.is_dir():
        return error(f"{args.directory}: not a folder of submissions")
    if args.jobs < 1:
        return error("--jobs must be at least 1")
    try:
        shard = parse_shard(args.shard) if args.shard else None
        lab_ids = [lab.id for lab in select(load_catalog(args.labs_dir), args.labs)]
    except (LabMetadataError, ValueError) as exc:
        return error(str(exc))
    rows = grade_batch(
        args.directory,
        lab_ids=args.labs,
        python=args.python,
        jobs=args.jobs,
        timeout_s=args.timeout,
        labs_dir=args.labs_dir,
        progress=None if args.quiet else print_progress,
        shard=shard,
        memory_mb=args.memory,
        cold=args.cold,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(rows, lab_ids), encoding="utf-8")
    graded = sum(1 for r in rows if r.status == "graded")
    print(f"wrote {args.output}: {graded} of {len(rows)} submissions graded", file=sys.stderr)
    return 0
