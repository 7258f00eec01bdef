"""The lab's written deliverables: the lifecycle diagram, the ISO 9001 audit checklist, the versioning
strategy and the tooling comparison. Each must name real files of the repository, so it stays a map
of the project rather than a generic essay."""

from __future__ import annotations

import re

from graders.lab01 import docs_text, sections
from graders.sdk import Checklist, Submission, check

LIFECYCLE = "docs/lifecycle.md"
AUDIT = "docs/iso9001-audit-checklist.md"
STRATEGY = "docs/versioning-strategy.md"
TOOLING = "docs/mlops-tooling-comparison.md"
STAGES = {
    "Data Ingestion": r"data\s+ingestion",
    "Model Tuning": r"model\s+(tuning|training)",
    "Deployment": r"deploy(ment)?",
    "Monitoring": r"monitoring",
}
MIN_DIAGRAM_PATHS = 6
AUDIT_CLAUSES = ("7.5", "8.5.6", "8.6")
MIN_CLAUSE_ROWS = 6
TOOLS = {"MLflow": r"mlflow", "Vertex AI": r"vertex", "Azure ML": r"azure\s*(ml|machine learning)"}
CONSTRAINTS = {
    "on-prem or air-gapped plants": r"air.?gap|on.?prem",
    "data residency": r"residen",
    "GPU availability": r"\bgpu",
    "cost": r"\bcost|pric",
}


@check(
    points=1, name="The lifecycle diagram names the real files and commands of each stage", section=sections.LIFECYCLE
)
def test_lifecycle_diagram(submission: Submission, checklist: Checklist) -> None:
    blocks = docs_text.mermaid_blocks(submission.read_text(LIFECYCLE))
    checklist.require(
        bool(blocks), f"{LIFECYCLE} has no ```mermaid block (GitHub renders it as the diagram)", LIFECYCLE
    )
    diagram = "\n".join(blocks)
    missing = [stage for stage, rx in STAGES.items() if not re.search(rx, diagram, re.IGNORECASE)]
    checklist.require(not missing, f"the diagram in {LIFECYCLE} has no {', '.join(missing)} stage", LIFECYCLE)
    named = docs_text.paths(diagram)
    absent = [p for p in named if not docs_text.exists(submission, p)]
    checklist.require(
        not absent,
        f"the diagram names {', '.join(absent)}, which the repository does not have; name the real files",
        f"{LIFECYCLE}:{submission.find_line(LIFECYCLE, absent[0]) or 1}" if absent else LIFECYCLE,
    )
    checklist.require(
        len(named) - len(absent) >= MIN_DIAGRAM_PATHS,
        f"the diagram names {len(named) - len(absent)} file(s) of the repository; name at least {MIN_DIAGRAM_PATHS} "
        "(the scripts, data, configuration and records of each stage)",
        LIFECYCLE,
    )
    checklist.require(
        bool(docs_text.COMMAND.search(diagram)),
        "the diagram names no command (e.g. `python -m mlops.train_register`, `dvc repro`)",
        LIFECYCLE,
    )


@check(points=1, name="The ISO 9001 checklist maps clauses to records that exist", section=sections.AUDIT)
def test_audit_checklist(submission: Submission, checklist: Checklist) -> None:
    text = submission.read_text(AUDIT)
    rows = [r for r in docs_text.table_rows(text) if any(re.fullmatch(r"\d+(\.\d+)+(, ?\d+(\.\d+)+)*", c) for c in r)]
    checklist.require(
        len(rows) >= MIN_CLAUSE_ROWS,
        f"{AUDIT} has {len(rows)} table row(s) with an ISO 9001 clause number; map at least {MIN_CLAUSE_ROWS} clauses "
        "to the records that prove them",
        AUDIT,
    )
    clauses = {clause for row in rows for cell in row for clause in re.findall(r"\d+(?:\.\d+)+", cell)}
    missing = [c for c in AUDIT_CLAUSES if not any(found == c or found.startswith(c + ".") for found in clauses)]
    checklist.require(
        not missing,
        f"{AUDIT} does not cover clause(s) {', '.join(missing)} (documented information, control of changes, "
        "release of products)",
        AUDIT,
    )
    cited = [p for span in docs_text.code_spans(text) for p in docs_text.paths(span)]
    absent = sorted({p for p in cited if not docs_text.exists(submission, p)})
    checklist.require(
        not absent,
        f"{AUDIT} cites records the repository does not have: {', '.join(absent)}",
        f"{AUDIT}:{submission.find_line(AUDIT, absent[0]) or 1}" if absent else AUDIT,
    )


@check(points=1, name="The versioning strategy and the tooling comparison are written down", section=sections.TOOLING)
def test_strategy_docs(submission: Submission, checklist: Checklist) -> None:
    strategy = submission.read_text(STRATEGY).lower()
    missing = [tool for tool in ("git", "dvc", "mlflow") if not re.search(rf"\b{tool}\b", strategy)]
    checklist.require(not missing, f"{STRATEGY} does not cover {', '.join(missing)}", STRATEGY)
    checklist.require(
        all(word in strategy for word in ("plant", "production_line", "champion")),
        f"{STRATEGY} states no tagging rules: name the version tags (plant, production_line) and the alias (champion)",
        STRATEGY,
    )
    rows = docs_text.table_rows(submission.read_text(TOOLING))
    header = " ".join(rows[0]).lower() if rows else ""
    tools = [name for name, rx in TOOLS.items() if not re.search(rx, header)]
    checklist.require(
        bool(rows) and not tools,
        f"{TOOLING} has no comparison table with a column for each of MLflow, Vertex AI and Azure ML"
        + (f" (missing: {', '.join(tools)})" if rows else ""),
        TOOLING,
    )
    first = " ".join(r[0].lower() for r in rows[1:])
    absent = [name for name, rx in CONSTRAINTS.items() if not re.search(rx, first)]
    checklist.require(
        not absent,
        f"{TOOLING} compares the tools on no row for: {', '.join(absent)} (the manufacturing constraints)",
        TOOLING,
    )
