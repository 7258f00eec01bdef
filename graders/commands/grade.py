"""``capstone grade``: grade one capstone repository and print or write a report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders.commands.common import add_lab_options, error, write_output
from graders.engine import progress
from graders.engine.labs import LabMetadataError, load_catalog, select
from graders.engine.model import GradeReport
from graders.engine.parallel import default_jobs
from graders.engine.session import EngineError, check_isolation, grade_labs
from graders.reports import FORMATS, render
from graders.reports.text import render_verbose


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "grade",
        help="grade a capstone repository (default: the current folder)",
        description="Grade a capstone repository lab by lab. Exits 0 whenever grading ran, "
        "whatever the score; non-zero only when the grader could not run.",
    )
    p.add_argument("path", nargs="?", default=".", type=Path, help="the repository to grade (default: .)")
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


def run(args: argparse.Namespace) -> int:
    try:
        also = _parse_also(args.also)
        check_isolation(args.path)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError("--jobs must be at least 1")
        labs = select(load_catalog(args.labs_dir), args.labs)
        jobs = args.jobs if args.jobs is not None else default_jobs(len(labs))
        report = grade_labs(args.path, labs, python=args.python, jobs=jobs)
    except (EngineError, LabMetadataError, ValueError) as exc:
        return error(str(exc))
    report.submission = str(args.path)
    main_text = render_verbose(report) if args.verbose and args.format == "text" else render(report, args.format)
    _write(args.format, main_text, args.output)
    for fmt, file in also:
        _write(fmt, render(report, fmt), file)
    if args.record_progress:
        return _record_progress(args.path / progress.DEFAULT_FILE, report)
    return 0


def _record_progress(path: Path, report: GradeReport) -> int:
    """Add the scores to the progress sheet; a sheet that cannot be written is an error after the report."""
    try:
        rows = progress.record_scores(path, report)
    except progress.ProgressFileError as exc:
        return error(f"the grade was not recorded: {exc}")
    print(f"recorded {len(rows)} lab score(s) in {path}", file=sys.stderr)
    return 0
