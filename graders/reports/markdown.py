"""Markdown for ``$GITHUB_STEP_SUMMARY``: a score table, then the feedback of checks that need work."""

from __future__ import annotations

from graders.engine.model import GradeReport
from graders.reports.formatting import needs_work, percent, points, status_counts
from graders.reports.missing_tools import missing_tools_lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render(report: GradeReport) -> str:
    lines = [
        f"## Capstone grade: {points(report.score)} / {points(report.max_score)} "
        f"({percent(report.score, report.max_score)})",
        "",
    ]
    banner = missing_tools_lines(report)
    if banner:  # a GitHub alert: the first thing on the run's summary page
        lines += ["> [!WARNING]", *(f"> {line}  " for line in banner), ""]
    lines += [
        "| Lab | Title | Score | Checks |",
        "| --- | --- | ---: | --- |",
    ]
    for lab in report.labs:
        lines.append(
            f"| {lab.id} | {_cell(lab.title)} | {points(lab.score)} / {points(lab.max_score)} | {status_counts(lab)} |"
        )
    for lab in report.labs:
        todo = needs_work(lab)
        if not todo and not lab.notes:
            continue
        lines += ["", f"### {lab.id}: {_cell(lab.title)}", ""]
        lines += [f"> {n}" for n in lab.notes]
        if todo:
            lines += ["| Check | Status | Points | Feedback |", "| --- | --- | ---: | --- |"]
            for c in todo:
                where = f" (`{c.location}`)" if c.location else ""
                lines.append(
                    f"| {_cell(c.name)} | {c.status.value} | {points(c.score)} / {points(c.max_score)} | "
                    f"{_cell(c.feedback)}{where} |"
                )
    return "\n".join(lines) + "\n"
