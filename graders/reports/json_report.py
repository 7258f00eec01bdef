"""The JSON report: exactly the contract in the design brief (``schema: 1``)."""

from __future__ import annotations

import json

from graders.engine.model import GradeReport


def render(report: GradeReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
