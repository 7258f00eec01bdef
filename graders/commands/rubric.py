"""``capstone rubric``: print the grading rubric of each lab, or write it into the lab notebooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graders.commands.common import error
from graders.engine.labs import Lab, LabMetadataError, load_catalog, select
from graders.engine.session import EngineError, collect_checks
from graders.instructor import rubric


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rubric",
        help="print each lab's grading rubric, or write it into the lab notebooks",
        description="The rubric is generated from the grader's checks and points. Without options it is "
        "printed; --write updates the block between <!-- BEGIN RUBRIC --> and <!-- END RUBRIC --> in "
        "labs/labNN/<notebook> and its jupytext pair; --check exits 1 when a notebook's rubric is stale.",
    )
    p.add_argument("--lab", dest="labs", action="append", metavar="ID", help="only this lab (repeatable)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update the notebooks that exist")
    mode.add_argument("--check", action="store_true", help="exit 1 when a notebook's rubric is not current")
    p.add_argument("--labs-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _notebooks(labs: list[Lab]) -> tuple[list[Lab], list[str]]:
    present = [lab for lab in labs if lab.notebook_path.is_file()]
    notes = [f"{lab.id}: no notebook yet ({lab.notebook_path}); skipped" for lab in labs if lab not in present]
    return present, notes


def run(args: argparse.Namespace) -> int:
    try:
        labs = select(load_catalog(args.labs_dir), args.labs)
        declared = collect_checks(labs)
        blocks = {lab.id: rubric.render(lab, declared.get(lab.id, [])) for lab in labs}
    except (EngineError, LabMetadataError, rubric.RubricError) as exc:
        return error(str(exc))
    if not (args.write or args.check):
        for lab in labs:
            print(f"## {lab.id}: {lab.title}\n\n{blocks[lab.id]}\n")
        return 0
    present, notes = _notebooks(labs)
    for note in notes:
        print(note, file=sys.stderr)
    stale = []
    try:
        for lab in present:
            if args.check:
                notebook = rubric.read(lab.notebook_path)
                if rubric.current(notebook, str(lab.notebook_path)) != blocks[lab.id]:
                    stale.append(lab)
            elif rubric.write(lab.notebook_path, blocks[lab.id]):
                print(f"{lab.notebook_path}: rubric updated")
            else:
                print(f"{lab.notebook_path}: rubric already current")
    except rubric.RubricError as exc:
        return error(str(exc))
    if stale:
        for lab in stale:
            print(f"{lab.notebook_path}: the rubric is stale; run `capstone rubric --write --lab {lab.id}`")
        return 1
    if args.check:
        print(f"{len(present)} notebook rubric(s) current")
    return 0
