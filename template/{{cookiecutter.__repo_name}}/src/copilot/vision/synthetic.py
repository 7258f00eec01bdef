"""Deterministic synthetic inspection images: stamped steel panels that are ok, scratched, dented or corroded.

Real line-camera images cannot leave the plant, so the course trains on renders with the same
difficulties: brushed-metal texture, uneven lighting, sensor noise and defects of random size,
position and orientation. The same seed always gives the same images, so a trained model and its
reported accuracy can be reproduced exactly.

``python -m copilot.vision.synthetic --out data/inspection --per-class 25`` writes PNG samples and a
``labels.csv`` (for notebooks and manual tests).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CLASSES: tuple[str, ...] = ("ok", "scratch", "dent", "corrosion")
IMAGE_SIZE = 64


def _panel(rng: np.random.Generator, size: int) -> np.ndarray:
    """Brushed steel under uneven light: float RGB in [0, 1]."""
    base = rng.uniform(0.45, 0.7)
    streaks = rng.normal(0.0, 0.03, size=(size, 1)) * np.ones((1, size))  # brushing runs along x
    if rng.random() < 0.5:
        streaks = streaks.T
    yy, xx = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0.0, 0.15) * (np.cos(angle) * xx + np.sin(angle) * yy)
    gray = base + streaks + light + rng.normal(0.0, 0.02, size=(size, size))
    tint = np.array([1.0, 1.0, 1.03]) * rng.uniform(0.97, 1.03, size=3)
    return np.clip(gray[..., None] * tint, 0.0, 1.0)


def _scratch(img: np.ndarray, rng: np.random.Generator) -> None:
    size = img.shape[0]
    for _ in range(rng.integers(1, 3)):
        length = rng.uniform(0.35, 0.8) * size
        angle = rng.uniform(0, np.pi)
        cx, cy = rng.uniform(0.25, 0.75, size=2) * size
        t = np.linspace(-length / 2, length / 2, int(length * 3))
        xs = np.clip((cx + t * np.cos(angle)).astype(int), 0, size - 1)
        ys = np.clip((cy + t * np.sin(angle) + rng.normal(0, 0.3, t.size)).astype(int), 0, size - 1)
        shade = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.35)
        img[ys, xs] = np.clip(img[ys, xs] + shade, 0.0, 1.0)
        if rng.random() < 0.5:  # a wider gouge
            img[np.clip(ys + 1, 0, size - 1), xs] = np.clip(img[np.clip(ys + 1, 0, size - 1), xs] + shade * 0.6, 0, 1)


def _dent(img: np.ndarray, rng: np.random.Generator) -> None:
    size = img.shape[0]
    cx, cy = rng.uniform(0.25, 0.75, size=2) * size
    radius = rng.uniform(0.1, 0.22) * size
    stretch = rng.uniform(0.7, 1.3)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    dx, dy = (xx - cx) / radius, (yy - cy) / (radius * stretch)
    r2 = dx**2 + dy**2
    bowl = np.exp(-r2 * 2.0)
    angle = rng.uniform(0, 2 * np.pi)
    # A dent is a bowl: lit on one rim, shadowed on the other.
    shading = (np.cos(angle) * dx + np.sin(angle) * dy) * bowl * rng.uniform(0.35, 0.55)
    ring = np.exp(-((np.sqrt(r2) - 1.0) ** 2) * 8.0) * rng.uniform(0.06, 0.12)
    img += (shading - ring)[..., None]
    np.clip(img, 0.0, 1.0, out=img)


def _corrosion(img: np.ndarray, rng: np.random.Generator) -> None:
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    mask = np.zeros((size, size))
    cx, cy = rng.uniform(0.2, 0.8, size=2) * size
    for _ in range(rng.integers(4, 10)):
        bx, by = cx + rng.normal(0, size * 0.1), cy + rng.normal(0, size * 0.1)
        r = rng.uniform(0.04, 0.12) * size
        mask = np.maximum(mask, np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * r**2)))
    mask *= np.clip(rng.normal(1.0, 0.35, size=(size, size)), 0.2, 1.6)  # pitted, uneven rust
    mask = np.clip(mask, 0.0, 1.0)[..., None]
    rust = np.array([0.55, 0.27, 0.12]) * rng.uniform(0.8, 1.15)
    img[:] = np.clip(img * (1 - mask) + rust * mask, 0.0, 1.0)


_DEFECTS = {"scratch": _scratch, "dent": _dent, "corrosion": _corrosion}


def render(label: str, rng: np.random.Generator, size: int = IMAGE_SIZE) -> np.ndarray:
    """One image of class ``label`` as uint8 RGB ``(size, size, 3)``."""
    if label not in CLASSES:
        raise ValueError(f"unknown class {label!r}; expected one of {', '.join(CLASSES)}")
    img = _panel(rng, size)
    if label != "ok":
        _DEFECTS[label](img, rng)
    if rng.random() < 0.3:  # harmless smudge: ok panels are not all pristine
        cx, cy = rng.uniform(0, size, size=2)
        yy, xx = np.mgrid[0:size, 0:size]
        smudge = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (size * 0.15) ** 2)) * rng.uniform(0.03, 0.06)
        img = np.clip(img - smudge[..., None], 0.0, 1.0)
    return (img * 255).round().astype(np.uint8)


def generate(
    per_class: int, seed: int, size: int = IMAGE_SIZE, classes: Sequence[str] = CLASSES
) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 [N, size, size, 3], labels int64 [N])``, classes interleaved, reproducible by seed."""
    rng = np.random.default_rng(seed)
    images = np.empty((per_class * len(classes), size, size, 3), dtype=np.uint8)
    labels = np.empty(per_class * len(classes), dtype=np.int64)
    i = 0
    for _ in range(per_class):
        for label_index, label in enumerate(classes):
            images[i] = render(label, rng, size)
            labels[i] = label_index
            i += 1
    return images, labels


def write_samples(out_dir: Path, per_class: int, seed: int, size: int = IMAGE_SIZE) -> Path:
    """PNG files plus ``labels.csv`` (file,label) under ``out_dir``."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    images, labels = generate(per_class, seed, size)
    rows = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        name = f"{CLASSES[label]}-{i:04d}.png"
        Image.fromarray(image).save(out_dir / name, optimize=True)
        rows.append((name, CLASSES[label]))
    index = out_dir / "labels.csv"
    with index.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    return index


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m copilot.vision.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/inspection"))
    parser.add_argument("--per-class", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", type=int, default=IMAGE_SIZE, help="image width and height in pixels")
    args = parser.parse_args(argv)
    index = write_samples(args.out, args.per_class, args.seed, args.size)
    print(f"wrote {args.per_class * len(CLASSES)} images and {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
