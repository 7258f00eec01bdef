"""``capstone grade``: grade one capstone repository and print or write a report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders.commands.common import add_lab_options, error, write_output
from graders.engine import progress
from graders.engine.labs import LabMetadataError, load_catalog, select
from graders.engine.locate import NotACapstone, find_capstone, found_from
from graders.engine.model import GradeReport
from graders.engine.parallel import default_jobs
from graders.engine.selection import selected_labs
from graders.engine.session import EngineError, check_isolation, grade_labs
from graders.reports import FORMATS, render
from graders.reports import text as text_report


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "grade",
        help="grade a capstone repository (default: the one the current folder is in)",
        description="Grade a capstone repository lab by lab. PATH may be any folder inside it (e.g. notebooks/): "
        "the capstone is the nearest folder at or above PATH with config/plant.yaml. The text report shows the "
        "score table and the first lab with work left; --lab ID details those labs, --all every check. "
        "Exits 0 whenever grading ran, whatever the score; non-zero only when the grader could not run.",
    )
    p.add_argument("path", nargs="?", default=".", type=Path, help="the repository, or a folder inside it (default: .)")
    add_lab_options(p)
    p.add_argument("--format", default="text", choices=sorted(FORMATS), help="report format (default: text)")
    p.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report here instead of stdout (classroom: $GITHUB_OUTPUT when set)",
    )
    p.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="FORMAT=FILE",
        help="also write another format from the same run, e.g. --also markdown=$GITHUB_STEP_SUMMARY",
    )
    p.add_argument(
        "--all",
        dest="show_all",
        action="store_true",
        help="text report: every check that needs work in every lab, each with its full feedback",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="grade PATH itself; never look for the capstone in the folders above it (grade-batch does this)",
    )
    p.add_argument(
        "--check",
        dest="checks",
        action="append",
        default=[],
        metavar="ID",
        help="grade only this check (repeatable), e.g. --check lab04.alert_metadata: a quick re-run of what you "
        "just fixed; the scores then count the selected checks only",
    )
    p.add_argument("--verbose", action="store_true", help="show grader-side details of errored checks")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="labs graded side by side in worker processes (default: 2 on a machine with 2 or more cores)",
    )
    p.add_argument(
        "--record-progress",
        action="store_true",
        help="also record each graded lab's score in PATH/capstone-progress.csv (the notebooks' progress sheet)",
    )
    p.set_defaults(func=run)


def _parse_also(values: list[str]) -> list[tuple[str, Path]]:
    pairs = []
    for value in values:
        fmt, sep, file = value.partition("=")
        if not sep or fmt not in FORMATS or not file:
            raise ValueError(f"--also {value!r}: expected FORMAT=FILE with FORMAT one of {', '.join(sorted(FORMATS))}")
        pairs.append((fmt, Path(file)))
    return pairs


def _write(fmt: str, text: str, output: Path | None) -> None:
    github_output = os.environ.get("GITHUB_OUTPUT")
    if fmt == "classroom" and output is None and github_output:
        with open(github_output, "a", encoding="utf-8") as fh:
            fh.write(text)
        return
    if output is not None and fmt == "markdown" and os.environ.get("GITHUB_STEP_SUMMARY") == str(output):
        with open(output, "a", encoding="utf-8") as fh:  # the step summary is appended to, never replaced
            fh.write(text)
        return
    write_output(text, output)


def _announce(args: argparse.Namespace, root: Path) -> None:
    """Say which repository is graded (stderr: the report on stdout stays machine-readable)."""
    start = found_from(args.path, root)
    if start is not None:
        print(f"Grading {root} (found from {start})", file=sys.stderr)
    elif args.format == "text":
        print(f"Grading {root}", file=sys.stderr)


def _main_text(args: argparse.Namespace, report: GradeReport) -> str:
    if args.format != "text":
        return render(report, args.format)
    detail: text_report.Detail = "all" if args.show_all else "labs" if args.labs else "next"
    if args.verbose:
        return text_report.render_verbose(report, detail)
    return text_report.render(report, detail)


def run(args: argparse.Namespace) -> int:
    try:
        also = _parse_also(args.also)
        root = find_capstone(args.path, walk_up=not args.exact)
        check_isolation(root)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError("--jobs must be at least 1")
        labs = select(load_catalog(args.labs_dir), args.labs)
        if args.checks:
            if args.record_progress:
                raise ValueError("--record-progress records whole labs: drop --check to record this grade")
            labs = selected_labs(labs, args.checks)
        jobs = args.jobs if args.jobs is not None else default_jobs(len(labs))
        _announce(args, root)
        report = grade_labs(root, labs, python=args.python, jobs=jobs, checks=args.checks)
    except (EngineError, LabMetadataError, NotACapstone, NotADirectoryError, ValueError) as exc:
        return error(str(exc))
    report.submission = str(root)
    _write(args.format, _main_text(args, report), args.output)
    for fmt, file in also:
        _write(fmt, render(report, fmt), file)
    if args.record_progress:
        return _record_progress(root / progress.DEFAULT_FILE, report)
    return 0


def _record_progress(path: Path, report: GradeReport) -> int:
    """Add the scores to the progress sheet; a sheet that cannot be written is an error after the report."""
    try:
        rows = progress.record_scores(path, report)
    except progress.ProgressFileError as exc:
        return error(f"the grade was not recorded: {exc}")
    print(f"recorded {len(rows)} lab score(s) in {path}", file=sys.stderr)
    return 0
