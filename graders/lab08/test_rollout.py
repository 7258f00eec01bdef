"""Lab assignment, part 2: the student's scripts/rollout_status.py against kubectl's rules.

The script is student code: it runs only through graders.sdk.run, with the student's interpreter,
a timeout and a scrubbed environment, on fixtures kept in this grader (fixtures/rollout/), from a
scratch copy of ``scripts/`` (nothing it writes lands in the submission).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from graders.lab08 import rollout_cases, sections
from graders.lab08.rollout_cases import FAKE_KUBECTL, SCRIPT, Case
from graders.sdk import Checklist, ProcessResult, Submission, check, fail, run

RUN_TIMEOUT_S = 20.0


def _require_script(submission: Submission) -> None:
    if not submission.is_file(SCRIPT):
        fail(f"{SCRIPT} is missing: write the rollout status script (see the lab's deliverables)", SCRIPT)


@pytest.fixture(scope="module")
def scripts_copy(submission: Submission, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the student's script runs: a scratch copy of scripts/ (empty when the folder is missing)."""
    return submission.copy_folder_to("scripts", tmp_path_factory.mktemp("rollout"))


def _run_case(workdir: Path, python: str, case: Case) -> ProcessResult:
    text = case.file.read_text(encoding="utf-8")
    if case.stdin:
        return run(
            [python, SCRIPT],
            cwd=workdir,
            stdin=text,
            timeout=RUN_TIMEOUT_S,
            label=f"{SCRIPT} < {case.file.name}",
        )
    return run([python, SCRIPT, str(case.file)], cwd=workdir, timeout=RUN_TIMEOUT_S, label=f"{SCRIPT} {case.file.name}")


def _shown(result: ProcessResult) -> str:
    if "Traceback (most recent call last)" in result.stderr:
        last = result.stderr.strip().splitlines()[-1]
        return f"it crashed with {last}"
    first = (result.stdout.strip() or result.stderr.strip() or "(no output)").splitlines()[0]
    return f"it printed {first[:200]!r}"


@check(
    14,
    "rollout_status.py gives kubectl's verdict and exit code for each deployment status",
    section=sections.LAB,
    assignment=True,
    timeout=180,
)
def test_rollout_verdicts(
    submission: Submission, student_python: str, scripts_copy: Path, checklist: Checklist
) -> None:
    _require_script(submission)
    for case in rollout_cases.cases():
        result = _run_case(scripts_copy, student_python, case)
        verdict = rollout_cases.verdict_of(result.stdout, result.stderr)
        how = "on standard input" if case.stdin else "as a file"
        # The verdict and the exit code are separate properties: each earns half of the case.
        checklist.require(
            verdict == case.verdict,
            f"{case.file.name} ({how}): expected the verdict '{case.verdict}' by kubectl's rule {case.rule}; got "
            f"'{verdict or 'no verdict'}' ({_shown(result)}). Print a line starting with complete, progressing or "
            "failed, or kubectl's own message",
            SCRIPT,
        )
        checklist.require(
            result.returncode == case.exit_code,
            f"{case.file.name} ({how}): expected exit {case.exit_code} ({case.verdict}) by kubectl's rule "
            f"{case.rule}; got exit {result.returncode} ({_shown(result)})",
            SCRIPT,
        )


@check(
    4,
    "rollout_status.py rejects malformed JSON with a message and exit 2, not a traceback",
    section=sections.LAB,
    assignment=True,
)
def test_rollout_malformed_input(
    submission: Submission, student_python: str, scripts_copy: Path, checklist: Checklist
) -> None:
    _require_script(submission)
    case = rollout_cases.malformed()
    attempts = [
        (
            f"{case.file.name} (kubectl output cut off)",
            run([student_python, SCRIPT, str(case.file)], cwd=scripts_copy, timeout=RUN_TIMEOUT_S),
        ),
        ("empty standard input", run([student_python, SCRIPT], cwd=scripts_copy, stdin="", timeout=RUN_TIMEOUT_S)),
    ]
    for what, result in attempts:
        crashed = "Traceback (most recent call last)" in result.stderr
        passed_as_complete = rollout_cases.verdict_of(result.stdout, result.stderr) == "complete"
        checklist.require(
            result.returncode == case.exit_code and not crashed and not passed_as_complete and result.output.strip(),
            f"{what}: expected a one-line explanation and exit {case.exit_code} (never 'complete': a broken kubectl "
            f"call must not pass a rollout); got exit {result.returncode} ({_shown(result)})",
            SCRIPT,
        )


@check(
    5,
    "rollout_status.py --watch polls the command until the rollout completes or fails",
    section=sections.LAB,
    assignment=True,
    timeout=120,
)
def test_rollout_watch(
    submission: Submission, student_python: str, scripts_copy: Path, tmp_path: Path, checklist: Checklist
) -> None:
    _require_script(submission)
    for case in rollout_cases.watch_cases():
        state = tmp_path / case.id
        state.mkdir()
        command = shlex.join([sys.executable, str(FAKE_KUBECTL), str(state), *map(str, case.sequence)])
        result = run(
            [student_python, SCRIPT, "--watch", command, "--interval", "0.05", "--timeout", "15"],
            cwd=scripts_copy,
            timeout=30,
            raise_on_timeout=False,
            label=f"{SCRIPT} --watch",
        )
        polls_file = state / "polls"
        polls = int(polls_file.read_text()) if polls_file.exists() else 0
        names = " -> ".join(p.stem for p in case.sequence)
        checklist.require(
            not result.timed_out and result.returncode == case.exit_code and polls >= case.min_polls,
            f"--watch over {names}: expected exit {case.exit_code} after polling at least {case.min_polls} times; "
            f"{'it did not stop within 30 s' if result.timed_out else f'got exit {result.returncode}'} after "
            f"{polls} poll(s) ({_shown(result)})",
            SCRIPT,
        )
