"""``capstone labs``: list the labs, their points and deliverables, from their metadata."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from graders.commands.common import error
from graders.engine.labs import LabMetadataError, load_catalog


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("labs", help="list the labs from their lab.yaml metadata")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--labs-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.labs_dir)
    except LabMetadataError as exc:
        return error(str(exc))
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "id": lab.id,
                        "title": lab.title,
                        "points": lab.points,
                        "notebook": lab.student_notebook,
                        "grader": lab.grader,
                        "installed": lab.grader_dir() is not None,
                        "deliverables": [d.path for d in lab.deliverables],
                    }
                    for lab in catalog
                ],
                indent=2,
            )
        )
        return 0
    for lab in catalog:
        state = "" if lab.grader_dir() is not None else "  (grader not installed)"
        print(f"{lab.id}  {lab.title}  [{lab.points:g} points]{state}")
        print(f"       notebook: {lab.student_notebook}")
        for d in lab.deliverables:
            print(f"       - {d.path}: {d.description}")
    return 0
