"""Argument helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lab", dest="labs", action="append", metavar="ID", help="grade only this lab (repeatable), e.g. --lab lab02"
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter with the student's dependencies, used to run their programs (default: the grader's own)",
    )
    parser.add_argument("--labs-dir", type=Path, metavar="DIR", help=argparse.SUPPRESS)


def error(message: str) -> int:
    """Print a grader-side error (not a grade) and return the exit status for it."""
    print(f"capstone: error: {message}", file=sys.stderr)
    return 1


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
