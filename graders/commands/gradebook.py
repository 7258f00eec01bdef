"""``capstone gradebook``: grading a class on several machines.

``merge`` joins the partial gradebooks of ``grade-batch --shard K/N`` runs into one, ``shard`` says
which submission names belong to a shard, ``workflow`` and ``k8s-job`` write a GitHub Actions
workflow and a Kubernetes Indexed Job that clone, grade, merge and publish a whole class.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graders.batch_class import k8s_job, workflow
from graders.commands.common import error, write_output
from graders.engine.batch import parse_shard, shard_of, submission_folders
from graders.reports.gradebook import GradebookError, merge


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gradebook", help="merge shard gradebooks; write a class-grading workflow or Kubernetes Job")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    m = actions.add_parser("merge", help="join partial gradebooks (one per shard) into one, sorted like one batch")
    m.add_argument("output", type=Path, metavar="OUT.csv")
    m.add_argument("parts", type=Path, nargs="+", metavar="PART.csv")
    m.add_argument(
        "--expect", type=Path, metavar="DIR", help="check every submission folder of DIR appears exactly once"
    )
    m.set_defaults(func=run_merge)

    s = actions.add_parser("shard", help="print the names read on stdin (one a line) that belong to shard K/N")
    s.add_argument("shard", metavar="K/N")
    s.set_defaults(func=run_shard)

    for name, helptext in (
        ("workflow", "print a GitHub Actions workflow grading the class in N shards (for .github/workflows/)"),
        ("k8s-job", "print a Kubernetes Indexed Job grading the class in N shards (one pod per shard)"),
    ):
        c = actions.add_parser(name, help=helptext)
        c.add_argument("--org", required=True, help="the GitHub organisation holding the students' repositories")
        c.add_argument("--prefix", required=True, metavar="ASSIGNMENT", help="the assignment's repository prefix")
        c.add_argument("--shards", type=int, required=True, metavar="N", help="machines grading side by side")
        c.add_argument("--jobs", type=int, default=2, metavar="J", help="warm workers per machine (default: 2)")
        c.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS", help="limit per submission")
        if name == "k8s-job":
            c.add_argument("--image", default="python:3.11-slim-bookworm", help="container image (Debian-based)")
            c.add_argument("--results-claim", default="gradebooks", help="PersistentVolumeClaim for the gradebooks")
            c.add_argument("--token-secret", default="class-repos-token", help="Secret with the GitHub token")
        c.set_defaults(func=run_template, template=name)


def run_merge(args: argparse.Namespace) -> int:
    try:
        parts = [(str(p), p.read_text(encoding="utf-8")) for p in args.parts]
        expect = [f.name for f in submission_folders(args.expect)] if args.expect else None
        text = merge(parts, expect)
    except (OSError, GradebookError) as exc:
        return error(str(exc))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {text.count(chr(10)) - 1} submissions from {len(parts)} parts", file=sys.stderr)
    return 0


def run_shard(args: argparse.Namespace) -> int:
    try:
        k, n = parse_shard(args.shard)
    except ValueError as exc:
        return error(str(exc))
    names = [line.strip() for line in sys.stdin if line.strip()]
    write_output("".join(f"{name}\n" for name in names if shard_of(name, n) == k), None)
    return 0


def run_template(args: argparse.Namespace) -> int:
    if args.shards < 1 or args.jobs < 1:
        return error("--shards and --jobs must be at least 1")
    if args.template == "workflow":
        text = workflow.render(args.org, args.prefix, args.shards, jobs=args.jobs, timeout_s=args.timeout)
    else:
        text = k8s_job.render(
            args.org,
            args.prefix,
            args.shards,
            image=args.image,
            results_claim=args.results_claim,
            token_secret=args.token_secret,
            jobs=args.jobs,
            timeout_s=args.timeout,
        )
    write_output(text, None)
    return 0
