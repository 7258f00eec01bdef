"""The inspection CNN and its weights file.

A small convolutional network (about 25k parameters): enough for surface defects at 64x64, fast on
a CPU, and a weights file small enough to commit. The file is a plain ``torch.save`` dictionary
loaded with ``weights_only=True`` (no pickled code runs on load).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from copilot.vision.synthetic import CLASSES, IMAGE_SIZE

FORMAT_VERSION = 1


class InspectionNet(nn.Module):
    def __init__(self, num_classes: int = len(CLASSES), width: int = 16) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(block(3, width), block(width, width * 2), block(width * 2, width * 4))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width * 4, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` -> float ``[N, 3, H, W]`` in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


@dataclass
class ModelBundle:
    """Weights plus what serving needs to use them."""

    model: InspectionNet
    classes: tuple[str, ...]
    image_size: int
    version: str
    metrics: dict[str, float] = field(default_factory=dict)


def save_bundle(bundle: ModelBundle, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": FORMAT_VERSION,
            "state_dict": {k: v.detach().cpu() for k, v in bundle.model.state_dict().items()},
            "classes": list(bundle.classes),
            "image_size": bundle.image_size,
            "version": bundle.version,
            "metrics": dict(bundle.metrics),
        },
        path,
    )


def load_bundle(path: Path | str, device: str | torch.device = "cpu") -> ModelBundle:
    data: dict[str, Any] = torch.load(Path(path), map_location=device, weights_only=True)
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported weights format {data.get('format')!r}")
    classes = tuple(data["classes"])
    model = InspectionNet(num_classes=len(classes))
    model.load_state_dict(data["state_dict"])
    model.to(device).eval()
    return ModelBundle(
        model=model,
        classes=classes,
        image_size=int(data.get("image_size", IMAGE_SIZE)),
        version=str(data["version"]),
        metrics={k: float(v) for k, v in data.get("metrics", {}).items()},
    )
