"""The ``capstone`` command line.

Each sub-command lives in its own module under ``graders.commands`` and registers itself with
``register(subparsers)``; adding a command is one module plus one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from graders import __version__, fast_exit
from graders.engine import orphans

COMMANDS = (
    "graders.commands.grade",
    "graders.commands.grade_batch",
    "graders.commands.gradebook",
    "graders.commands.labs",
    "graders.commands.build",
    "graders.commands.new",
    "graders.commands.verify",
    "graders.commands.variant",
    "graders.commands.rubric",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capstone",
        description="Grade Manufacturing Copilot capstones lab by lab, and maintain the course template.",
    )
    parser.add_argument("--version", action="version", version=f"capstone-kit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:  # `capstone labs | head`: the reader went away, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("capstone: interrupted", file=sys.stderr)
        return 130
    return code


def run() -> None:
    """The console script: :func:`main`, then stop what student programs left running (``orphans``) and
    exit without tearing down the imported tools (``fast_exit``)."""
    fast_exit.arm(code=1)  # an uncaught exception (traceback already printed) still exits 1
    orphans.adopt_orphans()  # what a student program leaves running is stopped before we exit
    try:
        code = main()
    except SystemExit as exc:  # argparse: usage errors (2), --help and --version (0)
        fast_exit.set_code(fast_exit.status_of(exc))
        raise
    finally:
        orphans.sweep()
    fast_exit.set_code(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
