"""promtool, run under the grader's limits, and its output quoted in feedback."""

from __future__ import annotations

from pathlib import Path

from graders.sdk import ProcessResult, run, tools

PROMTOOL_TIMEOUT_S = 60.0
PROMTOOL_MEMORY_MB = 2048


def output_excerpt(result: ProcessResult, lines: int = 25) -> str:
    """A tool's own words for the feedback: blank lines dropped, repeats folded, indented as a quote."""
    kept: list[str] = []
    repeats = 0
    for line in result.output.splitlines():
        if not line.strip():
            continue
        if kept and line == kept[-1]:
            repeats += 1
            continue
        if repeats:
            kept.append(f"(the line above {repeats} more time{'s' if repeats > 1 else ''})")
            repeats = 0
        kept.append(line)
    if repeats:
        kept.append(f"(the line above {repeats} more time{'s' if repeats > 1 else ''})")
    text = "\n".join(kept[-lines:]) or "(no output)"
    return "\n".join("    " + line for line in text.splitlines())


def run_promtool(args: list[str], cwd: Path) -> ProcessResult | None:
    """Run promtool with limits; None when it is not installed (the caller skips with the hint)."""
    promtool = tools.find_tool("promtool")  # looked up on the module: tests stand in for a missing tool
    if promtool is None:
        return None
    return run(
        [promtool, *args],
        cwd=cwd,
        timeout=PROMTOOL_TIMEOUT_S,
        memory_mb=PROMTOOL_MEMORY_MB,
        raise_on_timeout=False,
        label=f"promtool {' '.join(args[:2])}",
    )
