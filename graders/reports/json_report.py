"""The JSON report: exactly the contract in the design brief (``schema: 1``).

When checks could not run for want of a tool, a top-level ``missing_tools`` (the banner's lines)
comes before ``labs``, and each such check carries ``missing_tool``; both are absent otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from graders.engine.model import GradeReport
from graders.reports.missing_tools import missing_tools_lines


def render(report: GradeReport) -> str:
    data: dict[str, Any] = report.to_dict()
    banner = missing_tools_lines(report)
    if banner:
        labs = data.pop("labs")
        data["missing_tools"] = banner
        data["labs"] = labs
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
