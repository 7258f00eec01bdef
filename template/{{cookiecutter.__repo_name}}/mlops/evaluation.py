"""Evaluating a model on the evaluation set: per-class and overall metrics, the confusion matrix,
and the acceptance criteria a version must meet to become champion.

Metric names are part of the registry's contract: ``accuracy``, ``macro_f1``, ``min_class_recall``
and ``precision_<class>``, ``recall_<class>``, ``f1_<class>`` for every class. ``params.yaml`` names
acceptance criteria by these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Criterion:
    metric: str
    minimum: float
    value: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value >= self.minimum

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "minimum": self.minimum, "value": self.value, "passed": self.passed}


def predict(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class indexes predicted for uint8 images ``[N, H, W, 3]``."""
    import torch

    from copilot.vision.model import to_tensor

    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            out.append(model(to_tensor(images[start : start + batch_size])).argmax(1).numpy())
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def classification_metrics(confusion: np.ndarray, classes: tuple[str, ...]) -> dict[str, float]:
    total = int(confusion.sum())
    correct = np.diag(confusion).astype(float)
    actual = confusion.sum(axis=1).astype(float)
    predicted = confusion.sum(axis=0).astype(float)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(correct), where=denominator > 0)
    metrics = {
        "accuracy": float(correct.sum() / total) if total else 0.0,
        "macro_f1": float(f1.mean()),
        "min_class_recall": float(recall.min()),
    }
    for index, name in enumerate(classes):
        metrics[f"precision_{name}"] = float(precision[index])
        metrics[f"recall_{name}"] = float(recall[index])
        metrics[f"f1_{name}"] = float(f1[index])
    return {k: round(v, 4) for k, v in metrics.items()}


def acceptance(metrics: dict[str, float], minimums: dict[str, float]) -> list[Criterion]:
    """Each acceptance criterion with the measured value (None when the metric was not measured)."""
    return [Criterion(name, float(minimum), metrics.get(name)) for name, minimum in minimums.items()]


def plot_confusion(confusion: np.ndarray, classes: tuple[str, ...], path: Path, title: str) -> Path:
    """The confusion matrix as a PNG (counts in the cells, true classes down, predictions across)."""
    from matplotlib.figure import Figure  # no pyplot: no display needed on CI runners and plant servers

    fig = Figure(figsize=(4.2, 3.8), dpi=100)
    ax = fig.add_subplot()
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    threshold = confusion.max() / 2 if confusion.size else 0
    for (row, col), count in np.ndenumerate(confusion):
        ax.text(col, row, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
