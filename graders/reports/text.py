"""The terminal report: one table row per lab, then every check that needs work with its feedback."""

from __future__ import annotations

import textwrap

from graders.engine.model import GradeReport
from graders.reports.formatting import needs_work, percent, points, status_counts

WIDTH = 100


def render(report: GradeReport) -> str:
    out: list[str] = []
    total = f"{points(report.score)} / {points(report.max_score)} points ({percent(report.score, report.max_score)})"
    out.append(f"Capstone grade for {report.submission}: {total}")
    out.append("")
    title_w = max([len(lab.title) for lab in report.labs] + [5])
    out.append(f"  {'lab':<6} {'title':<{title_w}}  {'score':>13}  {'checks':<32} {'time':>6}")
    for lab in report.labs:
        score = f"{points(lab.score)} / {points(lab.max_score)}"
        out.append(
            f"  {lab.id:<6} {lab.title:<{title_w}}  {score:>13}  {status_counts(lab):<32} {lab.duration_s:>5.1f}s"
        )
    problems = [(lab, c) for lab in report.labs for c in needs_work(lab)]
    notes = [(lab, n) for lab in report.labs for n in lab.notes]
    if notes:
        out.append("")
        out.extend(f"  note ({lab.id}): {n}" for lab, n in notes)
    if problems:
        out.append("")
        out.append("Checks that need work:")
        for _lab, c in problems:
            out.append("")
            out.append(f"  [{c.status.value}] {c.id}  {c.name}  ({points(c.score)} / {points(c.max_score)})")
            if c.location:
                out.append(f"      at {c.location}")
            for para in (c.feedback or "(no feedback)").splitlines():
                wrapped = textwrap.wrap(para, WIDTH - 6, subsequent_indent="  ") or [""]
                out.extend("      " + w for w in wrapped)
    else:
        out.append("")
        out.append("Every check passed.")
    return "\n".join(out) + "\n"


def render_verbose(report: GradeReport) -> str:
    """The text report plus the grader-side details (tracebacks) of errored checks."""
    extra = [f"\n--- {c.id} ---\n{c.detail}" for lab in report.labs for c in lab.checks if c.detail]
    return render(report) + "".join(extra)
