"""Validate the MLOps readiness scorecard and render it as Markdown.

    python -m mlops.scorecard          # validate docs/mlops-readiness-scorecard.yaml and write the .md beside it
    python -m mlops.scorecard --check  # exit 1 when the card is invalid or the .md is out of date (for CI)

The card scores the capstone on nine dimensions, 0 (none) to 4 (managed), each with the evidence in
the repository, the gaps, the next action and its owner. Validation is the schema
(``mlops/schemas/scorecard.schema.json``), one entry per dimension, evidence paths that exist, and a
next action for every dimension below level 3; ``LEVEL_EVIDENCE`` says what level 3 and 4 must show.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

SCORECARD = Path("docs") / "mlops-readiness-scorecard.yaml"
RENDERED = SCORECARD.with_suffix(".md")
SCHEMA = Path(__file__).with_name("schemas") / "scorecard.schema.json"
LEVELS = {0: "none", 1: "ad hoc", 2: "repeatable", 3: "defined", 4: "managed"}
LEVEL_MEANING = {
    0: "not done",
    1: "done by hand, differently each time",
    2: "done the same way each time, by a documented procedure",
    3: "automated, with its evidence in the repository",
    4: "also enforced or measured: CI gates, tests, alerts, records",
}
# What the evidence of a dimension must show at level 3 and at level 4 (the course grader checks it).
LEVEL_EVIDENCE: dict[str, tuple[str, str, str]] = {
    "versioning": (
        "Versioning (code, data, models)",
        "dvc.yaml, a .dvc file or dvc.lock, and the code that registers model versions",
        "-",
    ),
    "reproducibility": ("Reproducibility", "params.yaml and dvc.lock", "a CI workflow that checks the data versions"),
    "experiment_tracking": (
        "Experiment tracking",
        "code that logs parameters and metrics to MLflow",
        "it also logs artefacts and the dataset version",
    ),
    "model_registry": (
        "Model registry",
        "registration code with version tags and the alias",
        "a release record citing a registered version",
    ),
    "ci_cd": ("CI/CD", "a workflow that runs the tests", "deployment gated by approvals or required checks"),
    "monitoring": ("Monitoring", "alerting rules and a dashboard", "tests of the alerting rules and a runbook"),
    "governance_audit": (
        "Governance and audit",
        "a release record and the ISO 9001 audit checklist",
        "CODEOWNERS or a pull request template",
    ),
    "security": ("Security", "a vulnerability scan in CI and access control in the service", "policy as code"),
    "rollback": (
        "Rollback",
        "a runbook with the rollback steps and the mechanism (registry alias or traffic switch)",
        "a test or script that exercises it",
    ),
}


class ScorecardError(Exception):
    """The scorecard cannot be read; the message names the file and the problem."""


def load(root: Path) -> dict[str, Any]:
    path = root / SCORECARD
    try:
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorecardError(f"{SCORECARD} is missing") from None
    except yaml.YAMLError as exc:
        raise ScorecardError(f"{SCORECARD} is not valid YAML ({exc})") from None
    if not isinstance(card, dict):
        raise ScorecardError(f"{SCORECARD}: expected a mapping with project, assessed_on, assessor and dimensions")
    return card


def problems(root: Path, card: dict[str, Any]) -> list[str]:
    """Everything wrong with the card (empty when it is valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text(encoding="utf-8")), format_checker=jsonschema.FormatChecker()
    )
    # Dates written without quotes are YAML dates; the schema checks their text.
    found = [
        f"{'.'.join(map(str, e.absolute_path)) or '(card)'}: {e.message}"
        for e in validator.iter_errors(json.loads(json.dumps(card, default=str)))
    ]
    entries = [d for d in card.get("dimensions") or [] if isinstance(d, dict)]
    ids = [d.get("id") for d in entries]
    found += [f"dimension {dim} is missing" for dim in LEVEL_EVIDENCE if dim not in ids]
    found += [f"dimension {dim} is listed more than once" for dim in LEVEL_EVIDENCE if ids.count(dim) > 1]
    for entry in entries:
        level = entry.get("level") if isinstance(entry.get("level"), int) else 0
        evidence = entry.get("evidence") or []
        found += [f"{entry.get('id')}: evidence {p} does not exist" for p in evidence if not (root / str(p)).exists()]
        if level >= 1 and not evidence:
            found.append(f"{entry.get('id')}: level {level} needs evidence (paths in the repository)")
        if level < 3 and not str(entry.get("next_action") or "").strip():
            found.append(f"{entry.get('id')}: level {level} is below 3, so it needs a next action")
    return found


def _cell(text: object) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|") or "-"


def render(card: dict[str, Any]) -> str:
    entries = [d for d in card.get("dimensions") or [] if isinstance(d, dict)]
    levels = [int(d.get("level") or 0) for d in entries]
    average = sum(levels) / len(levels) if levels else 0.0
    rows = [
        f"| {_cell(d.get('name'))} | {d.get('level')} ({LEVELS.get(d.get('level'), '?')}) | "
        f"{', '.join(f'`{p}`' for p in d.get('evidence') or []) or '-'} | {_cell(d.get('gaps'))} | "
        f"{_cell(d.get('next_action'))} | {_cell(d.get('owner'))} |"
        for d in entries
    ]
    legend = [f"| {level} | {name} | {LEVEL_MEANING[level]} |" for level, name in LEVELS.items()]
    needs = [f"| {name} | {three} | {four} |" for name, three, four in LEVEL_EVIDENCE.values()]
    return "\n".join(
        [
            f"# MLOps readiness scorecard: {card.get('project')}",
            "",
            f"Assessed on {card.get('assessed_on')} by {card.get('assessor')}. Generated from `{SCORECARD.as_posix()}`"
            " by `python -m mlops.scorecard`: edit the YAML, then regenerate this file.",
            "",
            f"Average level {average:.1f} of 4; {sum(1 for v in levels if v >= 3)} of {len(levels)} dimensions "
            "at level 3 (defined) or above.",
            "",
            "| dimension | level | evidence | gaps | next action | owner |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "## Levels",
            "",
            "| level | name | meaning |",
            "| --- | --- | --- |",
            *legend,
            "",
            "## What the evidence must show",
            "",
            "| dimension | level 3 | level 4 (in addition) |",
            "| --- | --- | --- |",
            *needs,
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    from mlops.params import repo_root

    parser = argparse.ArgumentParser(prog="python -m mlops.scorecard", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if invalid or out of date")
    args = parser.parse_args(argv)
    root = repo_root()
    try:
        card = load(root)
    except ScorecardError as exc:
        print(f"error: {exc}")
        return 1
    found = problems(root, card)
    for problem in found:
        print(f"{SCORECARD}: {problem}")
    text = render(card)
    target = root / RENDERED
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            print(f"{RENDERED} is out of date: run `python -m mlops.scorecard`")
            return 1
        return 1 if found else 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {RENDERED} ({len(card.get('dimensions') or [])} dimensions)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
