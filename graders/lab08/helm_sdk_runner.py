"""Lint and render a chart with Helm's Go SDK (helm-python-sdk); prints one JSON object.

Run by the lab08 grader in a subprocess: ``python -m graders.lab08.helm_sdk_runner OUT_JSON CHART
NAMESPACE VALUES_FILE...``. For each values file: Helm's lint errors (strict: warnings count) and the rendered
manifests, or the render error. The chart is a scratch copy; Helm's template engine has no file
or network access beyond the chart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from graders.sdk import safe_yaml

SEVERITY_WARNING = 2
KUBE_VERSION = "v1.33.0"


def judge(chart_dir: Path, namespace: str, values_file: str) -> dict[str, Any]:
    import helm_python as helm

    values = None
    if values_file != "values.yaml":
        values = safe_yaml.load((chart_dir / values_file).read_text(encoding="utf-8"), values_file) or {}
    outcome: dict[str, Any] = {}
    try:
        report = helm.lint(str(chart_dir), values, strict=True, kube_version=KUBE_VERSION)
        outcome["lint_errors"] = [
            f"[{m['path']}] {m['error'].strip()}"
            for m in report.get("messages", [])
            if m["severity"] >= SEVERITY_WARNING
        ]
    except helm.HelmError as exc:
        outcome["lint_errors"] = [str(exc).strip()]
    try:
        chart = helm.Chart.load(str(chart_dir))
        rendered = chart.render(values, name="copilot", namespace=namespace, is_install=True)
        outcome["manifests"] = "\n---\n".join(
            text for path, text in sorted(rendered.items()) if not path.endswith("NOTES.txt") and text.strip()
        )
    except helm.HelmError as exc:
        outcome["render_error"] = str(exc).strip()
    return outcome


def main(argv: list[str]) -> int:
    out, chart_dir, namespace, *values_files = argv
    result = {name: judge(Path(chart_dir), namespace, name) for name in values_files}
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
