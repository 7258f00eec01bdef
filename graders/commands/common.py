"""Argument helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graders.instructor import layout


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


def add_kit_option(parser: argparse.ArgumentParser) -> None:
    """``--kit DIR`` (hidden): the kit checkout to act on; default: the one around the current folder."""
    parser.add_argument("--kit", type=Path, default=None, help=argparse.SUPPRESS)


def kit_checkout(explicit: Path | None) -> Path | None:
    """The kit checkout an instructor command acts on, said on stderr (one line); None after an error line.

    With two checkouts (a release branch, a colleague's fork), the one the instructor stands in is meant,
    not the one ``capstone`` happens to be installed from.
    """
    if explicit is not None:
        root: Path | None = explicit.absolute()
        why = "--kit"
    else:
        root, why = layout.locate_kit()
    if root is None:
        error(
            f"{why}: run this command inside a checkout of the capstone kit (a folder with pyproject.toml "
            f"naming {layout.KIT_PROJECT_NAME}, reference_solution/ and labs/)"
        )
        return None
    print(f"capstone: kit checkout {root} ({why})", file=sys.stderr)
    return root


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
