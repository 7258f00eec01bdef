"""Train the inspection CNN on synthetic images and save the weights served by the API.

``python -m copilot.vision.train --out models/inspection-cnn.pt`` trains on one seed's images and
reports accuracy on images from a different seed (held out: never seen in training). Lab 01 wraps
:func:`train` to log the run to MLflow and register the model.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from copilot.vision.model import InspectionNet, ModelBundle, save_bundle, to_tensor
from copilot.vision.synthetic import CLASSES, generate


@dataclass(frozen=True)
class TrainConfig:
    train_per_class: int = 500
    eval_per_class: int = 150
    epochs: int = 14
    batch_size: int = 64
    learning_rate: float = 3e-3
    seed: int = 20260
    eval_seed: int = 20261
    version: str = "inspection-cnn-1"


def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            logits = model(to_tensor(images[start : start + batch_size]))
            correct += int((logits.argmax(1).numpy() == labels[start : start + batch_size]).sum())
    return correct / max(len(images), 1)


# (train images, train labels, evaluation images, evaluation labels), e.g. a DVC-versioned dataset (Lab 01).
Dataset = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def train(config: TrainConfig = TrainConfig(), log: bool = True, data: Dataset | None = None) -> ModelBundle:
    """Train deterministically (same config, same machine: same weights) and measure held-out accuracy.

    ``data`` replaces the images generated from the config's seeds (and sets the image size).
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    if data is None:
        data = (*generate(config.train_per_class, config.seed), *generate(config.eval_per_class, config.eval_seed))
    images, labels, eval_images, eval_labels = data
    model = InspectionNet(num_classes=len(CLASSES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    steps = config.epochs * int(np.ceil(len(images) / config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    started = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = rng.permutation(len(images))
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            batch = to_tensor(images[idx])
            flips = torch.from_numpy(rng.random(len(idx)) < 0.5)
            batch[flips] = batch[flips].flip(3)  # defects have no handedness
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), torch.from_numpy(labels[idx]))
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        if log:
            print(f"epoch {epoch + 1}/{config.epochs} loss {total / len(images):.4f}", flush=True)
    accuracy = evaluate(model, eval_images, eval_labels)
    train_accuracy = evaluate(model, images, labels)
    if log:
        print(f"held-out accuracy {accuracy:.4f} (train {train_accuracy:.4f}) in {time.perf_counter() - started:.1f} s")
    return ModelBundle(
        model=model.eval(),
        classes=CLASSES,
        image_size=int(images.shape[1]),
        version=config.version,
        metrics={"heldout_accuracy": accuracy, "train_accuracy": train_accuracy},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m copilot.vision.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/inspection-cnn.pt"))
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--per-class", type=int, default=TrainConfig.train_per_class)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--version", default=TrainConfig.version)
    args = parser.parse_args(argv)
    config = TrainConfig(epochs=args.epochs, train_per_class=args.per_class, seed=args.seed, version=args.version)
    bundle = train(config)
    save_bundle(bundle, args.out)
    print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
