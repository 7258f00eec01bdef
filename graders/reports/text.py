"""The terminal report: the score table first, then what to do next.

A fresh starter fails most of its 800 points, and one unfinished starter function can fail a dozen
checks with the same traceback; printing every check buries the table and gives no starting point.
So by default the report details only the first lab (in lab order) that has work left, with checks
that fail for one reason shown once (``causes``), and says how to see more: ``--lab ID`` details
the graded labs the same way, ``--all`` prints every check that needs work, each in full.
"""

from __future__ import annotations

import textwrap
from typing import Literal

from graders.engine.model import CheckResult, GradeReport, LabResult, Status
from graders.reports.causes import CauseGroup, group_by_cause
from graders.reports.formatting import needs_work, percent, points, status_counts
from graders.reports.missing_tools import missing_tools_lines

WIDTH = 100
Detail = Literal["next", "labs", "all"]


def render(report: GradeReport, detail: Detail = "next") -> str:
    """``next``: the table and the first lab with work left; ``labs``: every graded lab, causes grouped;
    ``all``: every check that needs work with its own feedback."""
    out = _selection_banner(report) + _table(report)
    notes = [(lab, n) for lab in report.labs for n in lab.notes]
    if notes:
        out.append("")
        out.extend(f"  note ({lab.id}): {n}" for lab, n in notes)
    todo = [lab for lab in report.labs if needs_work(lab)]
    out.append("")
    if not todo:
        out.append("Every check passed.")
    elif detail == "next":
        out.extend(_next_steps(todo))
    else:
        out.append("Checks that need work:")
        for lab in todo:
            out.append("")
            out.append(f"{lab.id}  {lab.title}  ({points(lab.score)} / {points(lab.max_score)} points)")
            if detail == "all":
                for check in needs_work(lab):
                    out.extend(_check(check))
            else:
                for group in group_by_cause(needs_work(lab)):
                    out.extend(_group(group))
    return "\n".join(out) + "\n"


def render_verbose(report: GradeReport, detail: Detail = "next") -> str:
    """The text report plus the grader-side details (tracebacks) of errored checks."""
    extra = [f"\n--- {c.id} ---\n{c.detail}" for lab in report.labs for c in lab.checks if c.detail]
    return render(report, detail) + "".join(extra)


def _selection_banner(report: GradeReport) -> list[str]:
    """A grading of selected checks (``--check``) says so before its scores, which count those alone."""
    selected = [c for lab in report.labs for c in lab.selection]
    if not selected:
        return []
    return [
        f"Only the selected checks were graded (--check {' '.join(selected)}): the scores below count "
        "them alone. Grade without --check for the labs' scores.",
        "",
    ]


def _table(report: GradeReport) -> list[str]:
    """The total, what could not run here (tools to install), and one row per lab."""
    total = f"{points(report.score)} / {points(report.max_score)} points ({percent(report.score, report.max_score)})"
    out = [f"Capstone grade for {report.submission}: {total}", ""]
    banner = missing_tools_lines(report)
    if banner:
        out.extend([*(f"  {line}" for line in banner), ""])
    title_w = max([len(lab.title) for lab in report.labs] + [5])
    out.append(f"  {'lab':<6} {'title':<{title_w}}  {'score':>13}  {'checks':<32} {'time':>6}")
    for lab in report.labs:
        score = f"{points(lab.score)} / {points(lab.max_score)}"
        out.append(
            f"  {lab.id:<6} {lab.title:<{title_w}}  {score:>13}  {status_counts(lab):<32} {lab.duration_s:>5.1f}s"
        )
    return out


def _first_lab(todo: list[LabResult]) -> LabResult:
    """The first lab with a failed or errored check; a lab with only skipped checks (a tool missing here) waits."""
    for lab in todo:
        if any(c.status in (Status.FAILED, Status.ERROR) for c in lab.checks):
            return lab
    return todo[0]


def _next_steps(todo: list[LabResult]) -> list[str]:
    lab = _first_lab(todo)
    checks = needs_work(lab)
    groups = group_by_cause(checks)
    shared = [g for g in groups if g.others]
    intro = f"{len(checks)} check{'s' if len(checks) != 1 else ''} need{'s' if len(checks) == 1 else ''} work"
    if shared:
        grouped = sum(len(g.checks) for g in shared)
        reasons = "one error" if len(shared) == 1 else f"{len(shared)} errors"
        intro += f"; {grouped} of them fail because of {reasons}, shown once"
    intro += ". Fix them from the top: each says where, what to change, and which notebook section explains it."
    out = [f"Next: {lab.id}  {lab.title}  ({points(lab.score)} / {points(lab.max_score)} points)"]
    out.extend(textwrap.wrap(intro, WIDTH, initial_indent="  ", subsequent_indent="  "))
    out.append(f"  Then grade this lab again: capstone grade --lab {lab.id}")
    for group in groups:
        out.extend(_group(group))
    rest = [other for other in todo if other is not lab]
    if rest:
        count = sum(len(needs_work(other)) for other in rest)
        out.append("")
        out.append(f"Not shown: {count} more check(s) that need work in {', '.join(other.id for other in rest)}.")
        out.append(f"  `capstone grade --lab {rest[0].id}` details one lab; `capstone grade --all` details every lab.")
    return out


def _group(group: CauseGroup) -> list[str]:
    out = _check(group.first)
    if not group.others:
        return out
    earned = sum(c.score for c in group.others)
    possible = sum(c.max_score for c in group.others)
    n = len(group.others)
    what = f"The same error ({group.cause.split(':', 1)[0]})" if group.cause else "The same feedback"
    out.append(
        f"      {what} also fails {'this check' if n == 1 else f'these {n} checks'} "
        f"({points(earned)} / {points(possible)} points):"
    )
    out.extend(f"        {_heading(c)}" for c in group.others)
    return out


def _heading(check: CheckResult) -> str:
    return f"[{check.status.value}] {check.id}  {check.name}  ({points(check.score)} / {points(check.max_score)})"


def _check(check: CheckResult) -> list[str]:
    out = ["", f"  {_heading(check)}"]
    if check.location:
        out.append(f"      at {check.location}")
    for para in (check.feedback or "(no feedback)").splitlines():
        wrapped = textwrap.wrap(para, WIDTH - 6, subsequent_indent="  ") or [""]
        out.extend("      " + w for w in wrapped)
    return out
