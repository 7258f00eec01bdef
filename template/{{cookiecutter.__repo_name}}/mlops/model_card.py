"""The model card excerpt logged with every run: what the version is, what it was trained and
evaluated on, how it scored against the acceptance criteria, and the card's own intended-use and
limitations sections (copied from ``docs/model-card.md``, so the registry and the card never disagree).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from mlops.evaluation import Criterion

MODEL_CARD = Path("docs") / "model-card.md"
EXCERPT_SECTIONS = ("Intended use", "Limitations and risks")


def card_sections(text: str, titles: Iterable[str]) -> str:
    """The ``## <title>`` sections of a Markdown document, in document order."""
    wanted = set(titles)
    parts = re.split(r"(?m)^(?=## )", text)
    return "".join(p for p in parts if p.startswith("## ") and p[3:].splitlines()[0].strip() in wanted).strip()


def excerpt(
    root: Path,
    model_name: str,
    plant: str,
    lines: Iterable[str],
    data_versions: dict[str, str],
    metrics: dict[str, float],
    criteria: list[Criterion],
    params: dict[str, object],
) -> str:
    rows = "\n".join(f"| {c.metric} | {c.minimum} | {c.value} | {'pass' if c.passed else 'FAIL'} |" for c in criteria)
    data = "\n".join(f"- `{path}`: `{md5}`" for path, md5 in sorted(data_versions.items()))
    settings = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
    card = root / MODEL_CARD
    copied = card_sections(card.read_text(encoding="utf-8"), EXCERPT_SECTIONS) if card.is_file() else ""
    return (
        f"# Model card excerpt: {model_name}\n\n"
        f"Plant {plant}, production line(s) {', '.join(lines)}.\n\n"
        f"## Data (DVC versions)\n\n{data}\n\n"
        f"## Training parameters\n\n{settings}\n\n"
        f"## Evaluation against the acceptance criteria\n\n"
        f"| metric | minimum | value | result |\n| --- | --- | --- | --- |\n{rows}\n\n"
        f"Accuracy {metrics.get('accuracy')}, macro F1 {metrics.get('macro_f1')}.\n\n"
        + (copied + "\n" if copied else f"(no {MODEL_CARD} in the repository)\n")
    )
