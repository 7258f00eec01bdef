"""Judge a Deployment rollout from `kubectl get deployment -o json`, the way `kubectl rollout status` does.

Usage:
    kubectl get deployment copilot-api -o json | python scripts/rollout_status.py
    python scripts/rollout_status.py deployment.json
    python scripts/rollout_status.py --watch "kubectl get deployment copilot-api -o json" --timeout 600

Prints one line per Deployment, ``<verdict>: <why>``, where the verdict is ``complete``,
``progressing`` or ``failed``, and exits 0 (complete), 1 (still progressing) or 2 (failed, or the
input could not be judged). A ``List`` of Deployments is judged item by item; the worst verdict
decides the exit code. ``--watch`` runs the command every ``--interval`` seconds until the rollout
completes or fails, or until ``--timeout`` seconds have passed (exit 1).

The rules are kubectl's (``DeploymentStatusViewer.Status`` in kubectl's
``pkg/polymorphichelpers/rollout_status.go``), checked in this order:

1. ``metadata.generation > status.observedGeneration``: the controller has not seen the latest
   spec yet, so nothing else in the status can be trusted: progressing.
2. The ``Progressing`` condition has reason ``ProgressDeadlineExceeded``: failed.
3. ``status.updatedReplicas < spec.replicas``: progressing (new replicas still being created).
4. ``status.replicas > status.updatedReplicas``: progressing (old replicas pending termination).
5. ``status.availableReplicas < status.updatedReplicas``: progressing (updated but not available).
6. Otherwise: complete. A Deployment scaled to zero is complete.

The API server omits zero-valued status fields from the JSON, so a missing count means 0.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

COMPLETE = "complete"
PROGRESSING = "progressing"
FAILED = "failed"
EXIT_CODES = {COMPLETE: 0, PROGRESSING: 1, FAILED: 2}
EXIT_UNJUDGEABLE = 2
# The Progressing condition's reason once progressDeadlineSeconds has passed without progress
# (TimedOutReason in kubectl's pkg/util/deployment).
TIMED_OUT_REASON = "ProgressDeadlineExceeded"


class InputError(ValueError):
    """The input is not a Deployment (or a List of them) that can be judged; the message says why."""


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.state]

    def line(self) -> str:
        return f"{self.state}: {self.reason}"


def _count(mapping: dict[str, Any], key: str, where: str) -> int:
    """An integer field that the API server omits when it is zero."""
    value = mapping.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}.{key} should be an integer, got {value!r}")
    return value


def _mapping(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key) or {}
    if not isinstance(value, dict):
        raise InputError(f"{where}.{key} should be an object, got {type(value).__name__}")
    return value


def progressing_condition(status: dict[str, Any]) -> dict[str, Any] | None:
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        raise InputError("status.conditions should be a list")
    return next((c for c in conditions if isinstance(c, dict) and c.get("type") == "Progressing"), None)


def judge_deployment(deployment: dict[str, Any]) -> Verdict:
    """One Deployment's verdict, by kubectl's rules in kubectl's order (see the module docstring)."""
    metadata = _mapping(deployment, "metadata", "deployment")
    shown = json.dumps(str(metadata.get("name", "<unnamed>")))  # kubectl quotes the name (%q)
    # TODO(lab08): apply kubectl's rules: observed generation, deadline, updated, old and available replicas
    return Verdict(COMPLETE, f"deployment {shown} successfully rolled out")


def deployments_in(text: str) -> list[dict[str, Any]]:
    """The Deployments in kubectl's JSON output: one object, or the items of a ``List``."""
    # TODO(lab08): parse the JSON safely and accept a Deployment or a List of Deployments
    return [json.loads(text)]


def judge_text(text: str) -> list[Verdict]:
    return [judge_deployment(d) for d in deployments_in(text)]


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict that decides the exit code: failed over progressing over complete."""
    return max(verdicts, key=lambda v: v.exit_code)


def report(verdicts: Sequence[Verdict], out: TextIO) -> int:
    for verdict in verdicts:
        print(verdict.line(), file=out)
    return worst(verdicts).exit_code


def poll(command: Sequence[str], timeout: float) -> str:
    """Run the status command once and return its standard output."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise InputError(f"cannot run {command[0]!r}: command not found") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"`{shlex.join(command)}` did not answer within {timeout:g} s") from None
    if done.returncode != 0:
        raise InputError(f"`{shlex.join(command)}` exited with code {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def watch(
    command: Sequence[str],
    interval: float,
    timeout: float,
    out: TextIO,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll ``command`` until the rollout completes (0) or fails (2); 1 when ``timeout`` runs out."""
    # TODO(lab08): poll until complete or failed, print each new status, give up after the timeout
    return report(judge_text(poll(command, timeout=60.0)), out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default="-", help="kubectl's JSON output (default: standard input)")
    parser.add_argument("--watch", metavar="COMMAND", help="poll this command, e.g. 'kubectl get deployment X -o json'")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls (default 2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds (default 600)")
    args = parser.parse_args(argv)
    if args.interval < 0 or args.timeout <= 0:
        parser.error("--interval must be >= 0 and --timeout > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.watch:
            command = shlex.split(args.watch)
            if not command:
                raise InputError("--watch needs a command")
            return watch(command, args.interval, args.timeout, sys.stdout)
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        return report(judge_text(text), sys.stdout)
    except InputError as exc:
        print(f"error: cannot judge the rollout: {exc}", file=sys.stderr)
        return EXIT_UNJUDGEABLE
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNJUDGEABLE


if __name__ == "__main__":
    sys.exit(main())
