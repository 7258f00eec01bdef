"""``capstone variant add LAB SUBMISSION``: keep a real submission's correct answer as a variant of its lab."""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.commands.common import error
from graders.engine import variants
from graders.engine.labs import LabMetadataError, load_catalog, select
from graders.instructor import build, variant_add


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "variant",
        help="add a correct answer in another form (from a submission) to a lab's variants",
        description="Variants are correct answers that must keep full marks (graders/labNN/variants.yaml); "
        "`capstone verify` grades them.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="copy a submission's lab files that differ from the reference into a new variant, then grade it",
        description="Copies the lab's deliverables (lab.yaml), the files holding its solution regions and every "
        "--file that differ from reference_solution/ into graders/LAB/variants/ID/, appends the variants.yaml "
        "entry and the variants/README.md line, then grades the variant and says whether it keeps full marks "
        "(exit 1 when it does not: fix the grader, not the variant).",
    )
    add.add_argument("lab", metavar="LAB", help="the lab id, e.g. lab02")
    add.add_argument("submission", type=Path, metavar="SUBMISSION", help="the student's repository")
    add.add_argument("--id", dest="variant_id", required=True, help="the variant's id, e.g. pure-asgi-audit")
    add.add_argument("--description", required=True, help="one line: how this answer differs from the reference")
    add.add_argument(
        "--file", dest="files", action="append", default=[], metavar="PATH", help="another changed path to include"
    )
    add.add_argument("--no-grade", action="store_true", help="add it without grading it now")
    add.add_argument("--kit", type=Path, default=build.KIT_ROOT, help=argparse.SUPPRESS)
    add.set_defaults(func=run_add)


def run_add(args: argparse.Namespace) -> int:
    try:
        lab = select(load_catalog(args.kit / "labs"), [args.lab])[0]
    except LabMetadataError as exc:
        return error(str(exc))
    reference = args.kit / "reference_solution"
    try:
        added = variant_add.add_variant(
            lab, reference, args.submission.resolve(), args.variant_id, args.description, args.files
        )
    except variant_add.VariantAddError as exc:
        return error(str(exc))
    print(f"added {lab.id} variant {added.variant_id} in {added.folder} ({len(added.files)} file(s)):")
    print("".join(f"  {rel}\n" for rel in added.files), end="")
    if added.unchanged_missing:
        print("not in the submission (the variant keeps the reference's): " + ", ".join(added.unchanged_missing))
    if args.no_grade:
        return 0
    outcome = variants.run_variant(variant_add.find_variant(lab, added.variant_id), reference, lab)
    if outcome.full_marks:
        print(f"{lab.id}: {outcome.score:g}/{outcome.max_score:g}: at full marks")
        return 0
    print(f"{lab.id}: {outcome.score:g}/{outcome.max_score:g}: NOT at full marks (a grader bug to fix):")
    print("".join(f"  {line}\n" for line in outcome.lost), end="")
    return 1
