"""Lab 05 assignment checks: the student's PR docs gate decides synthetic change sets correctly.

Each check runs scripts/check_pr_docs.py (as a student program) on the change sets in
:mod:`graders.lab05.gate` and earns a share of its points per case decided correctly: the right exit
code, no crash, and an explanation (naming the guarded file, when it blocks).
"""

from __future__ import annotations

from graders.lab05 import gate as cases
from graders.lab05 import sections
from graders.lab05.gate import GateCase, GateRunner
from graders.sdk import Checklist, check


def _grade(gate: GateRunner, checklist: Checklist, group: tuple[GateCase, ...]) -> None:
    for case in group:
        problem = gate.run(case).problem
        checklist.require(problem is None, problem or "", cases.GATE_SCRIPT)


@check(points=8, name="Gate blocks model, prompt and serving changes without both docs", section=sections.LAB,
       assignment=True, timeout=90)
def test_gate_blocks_undocumented(gate: GateRunner, checklist: Checklist) -> None:
    _grade(gate, checklist, cases.BLOCKS)


@check(points=6, name="Gate passes guarded changes that update the model card and a runbook", section=sections.LAB,
       assignment=True, timeout=90)
def test_gate_passes_documented(gate: GateRunner, checklist: Checklist) -> None:
    _grade(gate, checklist, cases.DOCUMENTED)


@check(points=5, name="Gate passes docs-only and unrelated changes", section=sections.LAB, assignment=True,
       timeout=90)
def test_gate_passes_unrelated(gate: GateRunner, checklist: Checklist) -> None:
    _grade(gate, checklist, cases.UNRELATED)


@check(points=5, name="Gate reads git's name-status renames (both paths count)", section=sections.LAB,
       assignment=True, timeout=90)
def test_gate_handles_renames(gate: GateRunner, checklist: Checklist) -> None:
    _grade(gate, checklist, cases.RENAMES)


@check(points=4, name="Gate passes an empty change set and never passes one it could not read",
       section=sections.LAB, assignment=True, timeout=90)
def test_gate_fails_closed(gate: GateRunner, checklist: Checklist) -> None:
    _grade(gate, checklist, cases.FAIL_CLOSED)
