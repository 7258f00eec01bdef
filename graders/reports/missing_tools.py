"""The banner every report opens with when checks could not run for want of a tool.

A skipped check scores 0 but stays in the maximum (so totals compare across machines), which makes
a missing ``promtool`` look like lost points. Every format therefore starts with what to install,
computed here from the checks whose skip came from :class:`graders.sdk.tools.ToolMissing`.
"""

from __future__ import annotations

from graders.engine.model import GradeReport
from graders.sdk.tools import TOOLS, Source, Tool


def _tool(name: str) -> Tool:
    # A report read back from JSON may name a tool this version of the graders does not declare.
    return TOOLS.get(name) or Tool(name, Source.VENDOR, "its vendor")


def missing_tools_lines(report: GradeReport) -> list[str]:
    """The banner's lines, e.g. ``2 checks could not run here: install prometheus (promtool)``; [] when none."""
    missing = report.missing_tools()
    if not missing:
        return []
    count = sum(len(ids) for ids in missing.values())
    tools = [_tool(name) for name in missing]
    lines = [
        f"{count} check{'s' if count != 1 else ''} could not run here: install {', '.join(t.install for t in tools)}"
    ]
    commands = []
    debian = [t.package for t in tools if t.source is Source.DEBIAN]
    if debian:
        commands.append(f"sudo apt-get install {' '.join(debian)} (Debian/Ubuntu)")
    pip = [t.package for t in tools if t.source is Source.PIP]
    if pip:
        commands.append(f"pip install {' '.join(pip)}")
    commands += [t.hint for t in tools if t.source in (Source.RUNNER, Source.VENDOR)]
    lines.append("To install: " + "; ".join(commands) + ".")
    lines.append("Until then they score 0 and still count in the maximum.")
    return lines
