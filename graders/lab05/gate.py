"""Running the student's PR docs gate (scripts/check_pr_docs.py) against synthetic change sets.

The change sets are the grader's, not the student's: each names the files a pull request changes
(plain paths or ``git diff --name-status`` lines, renames included), how the gate receives them
(arguments, a ``--changed-files`` file or standard input, the three ways the lab's contract allows)
and the verdict the gate must reach. The gate runs as a student program: a subprocess with the
student's interpreter, a timeout and a scrubbed environment, in a scratch copy of ``scripts/``.

A verdict only counts when the program decided it: a traceback, an internal-error message or a
silent exit never counts as a pass, so a gate that crashes into exit 0 earns nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graders.sdk import ProcessResult, Submission, SubmissionFileError, run

GATE_SCRIPT = "scripts/check_pr_docs.py"
PASS, DOCS_MISSING, UNUSABLE = 0, 1, 2
VERDICTS = {PASS: "exit 0 (may merge)", DOCS_MISSING: "exit 1 (docs missing)", UNUSABLE: "exit 2 (unusable input)"}
CRASH = re.compile(r"Traceback \(most recent call last\)|\binternal error\b", re.IGNORECASE)
# An exception name in the output of a change set that should pass: the "pass" hides a crash.
ERROR_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class GateCase:
    id: str
    description: str
    changes: tuple[str, ...]
    mode: str  # "args", "file" (--changed-files FILE) or "stdin" (piped, no arguments)
    expect: int
    # Failures must explain themselves by naming the guarded file that triggered them.
    must_name: tuple[str, ...] = ()


CARD = "docs/model-card.md"
RUNBOOK = "docs/runbooks/deploy-cloud-run.md"

BLOCKS = (
    GateCase("model-code-alone", "model code changed, no docs", ("src/copilot/vision/model.py",), "args",
             DOCS_MISSING, ("src/copilot/vision/model.py",)),
    GateCase("prompt-with-card-only", "prompt code and the model card changed, no runbook",
             ("M\tsrc/copilot/rag/prompts.py", f"M\t{CARD}"), "file", DOCS_MISSING, ("src/copilot/rag/prompts.py",)),
    GateCase("serving-with-runbook-only", "serving code and a runbook changed, no model card",
             ("M\tsrc/copilot/api/routes/rag.py", f"M\t{RUNBOOK}", "M\tREADME.md"), "stdin", DOCS_MISSING,
             ("src/copilot/api/routes/rag.py",)),
    GateCase("training-code", "training code changed with an unrelated file", ("mlops/train_register.py", "README.md"),
             "args", DOCS_MISSING, ("mlops/train_register.py",)),
    # A deleted document is not an updated one: the change set removes the evidence.
    GateCase("model-card-deleted", "model code changed, the model card deleted, a runbook updated",
             ("M\tsrc/copilot/vision/model.py", f"D\t{CARD}", f"M\t{RUNBOOK}"), "file", DOCS_MISSING,
             ("src/copilot/vision/model.py",)),
    # Deleting or adding guarded code changes what is served as much as editing it.
    GateCase("model-code-deleted", "model code deleted, no docs", ("D\tsrc/copilot/vision/model.py", "M\tREADME.md"),
             "file", DOCS_MISSING, ("src/copilot/vision/model.py",)),
    GateCase("serving-route-added", "a new serving route, no docs", ("A\tsrc/copilot/api/routes/feedback.py",),
             "stdin", DOCS_MISSING, ("src/copilot/api/routes/feedback.py",)),
)
DOCUMENTED = (
    GateCase("model-with-both-docs", "model code with the model card and a runbook",
             ("src/copilot/vision/model.py", CARD, RUNBOOK), "args", PASS),
    GateCase("prompt-with-new-runbook", "prompt code with the model card and a new runbook",
             ("M\tsrc/copilot/rag/prompts.py", f"M\t{CARD}", "A\tdocs/runbooks/prompt-rollout.md"), "stdin", PASS),
    GateCase("serving-with-both-docs", "serving code, tests and both documents",
             ("M\tsrc/copilot/api/routes/vision.py", "M\ttests/api/test_vision.py", f"M\t{CARD}", f"M\t{RUNBOOK}"),
             "file", PASS),
)
UNRELATED = (
    GateCase("docs-only", "documentation only", (f"M\t{CARD}", f"M\t{RUNBOOK}", "A\tdocs/ci-cd.md"), "file", PASS),
    GateCase("model-card-only", "the model card alone", (CARD,), "args", PASS),
    GateCase("unrelated-code", "files that are not model, prompt or serving code",
             ("README.md", "terraform/modules/gcs/main.tf", ".github/workflows/main.yml", "k8s/base/hpa.yaml"),
             "args", PASS),
    # Guarded folders are path prefixes: a name that merely contains one is not guarded code.
    GateCase("look-alike-paths", "files whose paths only resemble guarded folders",
             ("A\tsrc/copilot/apiary.py", "M\tdocs/mlops/overview.md", "M\ttests/api/conftest.py"), "file", PASS),
)
RENAMES = (
    GateCase("rename-out-of-model-code", "model code renamed out of its folder, no docs",
             ("R100\tsrc/copilot/vision/model.py\tlegacy/vision_model.py",), "file", DOCS_MISSING,
             ("src/copilot/vision/model.py",)),
    GateCase("rename-prompt-file", "prompt file renamed and edited, no docs",
             ("R087\tsrc/copilot/rag/prompts.py\tsrc/copilot/rag/prompt_templates.py", "M\tREADME.md"), "stdin",
             DOCS_MISSING, ("src/copilot/rag/prompt",)),
    GateCase("rename-with-docs", "prompt file renamed, model card edited, runbook renamed",
             ("R095\tsrc/copilot/rag/prompts.py\tsrc/copilot/rag/prompt_templates.py", f"M\t{CARD}",
              "R100\tdocs/runbooks/old-rollout.md\tdocs/runbooks/prompt-rollout.md"), "file", PASS),
    GateCase("rename-unrelated", "notes moved into docs/", ("R100\tnotes/plant-visit.md\tdocs/notes/plant-visit.md",),
             "file", PASS),
)
FAIL_CLOSED = (
    GateCase("empty-change-set", "an empty change set", (), "file", PASS),
    GateCase("missing-change-file", "a --changed-files path that does not exist", (), "missing-file", UNUSABLE),
    GateCase("rename-without-new-path", "a malformed rename line (one path)",
             ("R100\tsrc/copilot/vision/model.py",), "file", UNUSABLE),
    GateCase("unknown-status", "a line whose status is not a git status", ("Q\tsrc/copilot/api/routes/rag.py",),
             "file", UNUSABLE),
)


@dataclass(frozen=True)
class GateRun:
    case: GateCase
    result: ProcessResult

    @property
    def output(self) -> str:
        return self.result.output

    @property
    def crashed(self) -> bool:
        if CRASH.search(self.output):
            return True
        return self.case.expect == PASS and bool(ERROR_NAME.search(self.output))

    @property
    def problem(self) -> str | None:
        """Why this run does not meet its case, or None when it does."""
        case, result = self.case, self.result
        shown = ", ".join(c.replace("\t", " ") for c in case.changes) or "no changes"
        head = f"case '{case.id}' ({case.description}: {shown}): expected {VERDICTS[case.expect]}"
        got = "; the output was empty" if not self.output else f"; output: {_tail(self.output)}"
        if result.timed_out:
            return f"{head}, but the gate did not finish within {TIMEOUT_S:g} s"
        if self.crashed:
            return f"{head}, but the gate crashed (exit {result.returncode}){got}"
        if result.returncode != case.expect:
            return f"{head}, got exit {result.returncode}{got}"
        if not self.output:
            return f"{head} with an explanation, but the gate printed nothing"
        missing = [p for p in case.must_name if p not in self.output]
        if missing:
            return f"{head} and got it, but the explanation does not name the file that triggered it ({missing[0]})"
        return None


def _tail(text: str, limit: int = 300) -> str:
    flat = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else "..." + flat[-limit:]


class GateRunner:
    """Runs the gate once per case (results are shared by the checks) in a scratch copy of scripts/."""

    def __init__(self, submission: Submission, python: str, workdir: Path) -> None:
        if not submission.is_file(GATE_SCRIPT):
            raise SubmissionFileError(
                f"{GATE_SCRIPT} is missing: write the PR docs gate there (the lab's starter has a stub)", GATE_SCRIPT
            )
        self.python = python
        self.workdir = workdir
        submission.copy_folder_to("scripts", workdir)
        self._runs: dict[str, GateRun] = {}

    def run(self, case: GateCase) -> GateRun:
        if case.id not in self._runs:
            hung = next((r for r in self._runs.values() if r.result.timed_out), None)
            # A gate that hung once would hang again: later cases fail at once instead of each waiting.
            result = self._execute(case) if hung is None else ProcessResult(hung.result.command, -9, "", "", 0.0, True)
            self._runs[case.id] = GateRun(case, result)
        return self._runs[case.id]

    def _execute(self, case: GateCase) -> ProcessResult:
        listing = "".join(f"{line}\n" for line in case.changes)
        command = [self.python, GATE_SCRIPT]
        stdin: str | None = None
        if case.mode == "args":
            command += list(case.changes)
        elif case.mode == "file":
            name = f"changed-{case.id}.txt"
            (self.workdir / name).write_text(listing, encoding="utf-8")
            command += ["--changed-files", name]
        elif case.mode == "missing-file":
            command += ["--changed-files", "no-such-change-list.txt"]
        else:
            stdin = listing
        return run(command, cwd=self.workdir, timeout=TIMEOUT_S, stdin=stdin, raise_on_timeout=False,
                   label=f"python {GATE_SCRIPT} ({case.id})")
