"""Report renderers: one module per output format, all rendered from the same GradeReport.

Adding a format: write ``render(report) -> str`` in a new module and register it in FORMATS.
"""

from __future__ import annotations

from collections.abc import Callable

from graders.engine.model import GradeReport
from graders.reports import classroom, gradescope, json_report, junit, markdown, text

Renderer = Callable[[GradeReport], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "classroom": classroom.render,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "markdown": markdown.render,
}


def render(report: GradeReport, fmt: str) -> str:
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; choose from {', '.join(FORMATS)}") from None
    return renderer(report)
