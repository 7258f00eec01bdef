"""The inspection image dataset as it is versioned in the repository: one folder per split.

``data/inspection/train`` is produced by the ``generate`` stage of ``dvc.yaml``;
``data/inspection/eval`` is the frozen evaluation set, tracked by ``data/inspection/eval.dvc``. Each
folder holds PNG images and a ``labels.csv`` (``file,label``), the layout a labelling tool exports,
so real line-camera images can replace the synthetic ones without code changes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.vision.synthetic import CLASSES

TRAIN_DIR = "data/inspection/train"
EVAL_DIR = "data/inspection/eval"
LABELS_FILE = "labels.csv"


class DatasetError(Exception):
    """A split folder that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Split:
    name: str
    images: np.ndarray  # uint8 [N, H, W, 3]
    labels: np.ndarray  # int64 [N], indexes into ``classes``
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def per_class(self, count: int) -> Split:
        """The first ``count`` images of each class (a smaller, still balanced split)."""
        keep = np.concatenate([np.flatnonzero(self.labels == k)[:count] for k in range(len(self.classes))])
        keep.sort()
        return Split(self.name, self.images[keep], self.labels[keep], self.classes)


def load_split(folder: Path, classes: tuple[str, ...] = CLASSES) -> Split:
    """Read ``labels.csv`` and its images; every label must be one of ``classes``, every image the same size."""
    from PIL import Image

    index = folder / LABELS_FILE
    if not index.is_file():
        raise DatasetError(f"{index} is missing: each split folder needs a labels.csv with the columns file,label")
    with index.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise DatasetError(f"{index}: expected the header file,label and at least one row")
    images, labels = [], []
    for line, row in enumerate(rows, start=2):
        if row["label"] not in classes:
            raise DatasetError(f"{index}:{line}: label {row['label']!r} is not one of {', '.join(classes)}")
        path = folder / row["file"]
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
        except OSError as exc:
            raise DatasetError(f"{index}:{line}: cannot read {path.name} ({exc})") from None
        labels.append(classes.index(row["label"]))
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise DatasetError(f"{folder}: images have different sizes {sorted(shapes)}; regenerate the split")
    return Split(folder.name, np.stack(images), np.asarray(labels, dtype=np.int64), classes)
