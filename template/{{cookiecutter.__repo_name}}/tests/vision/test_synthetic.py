"""Synthetic inspection images: deterministic, the right shape, distinguishable classes."""

import numpy as np

from copilot.vision.synthetic import CLASSES, generate, main


def test_same_seed_same_images() -> None:
    a_images, a_labels = generate(3, seed=11)
    b_images, b_labels = generate(3, seed=11)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_labels, b_labels)
    c_images, _ = generate(3, seed=12)
    assert not np.array_equal(a_images, c_images)


def test_shapes_and_balanced_labels() -> None:
    images, labels = generate(5, seed=1)
    assert images.shape == (20, 64, 64, 3) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [5] * len(CLASSES)


def test_corrosion_is_reddish() -> None:
    images, labels = generate(20, seed=3)
    redness = images[..., 0].astype(float).mean(axis=(1, 2)) - images[..., 2].astype(float).mean(axis=(1, 2))
    corrosion = CLASSES.index("corrosion")
    assert redness[labels == corrosion].mean() > redness[labels != corrosion].mean() + 5


def test_cli_writes_pngs_and_labels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["--out", str(tmp_path), "--per-class", "2", "--seed", "5"]) == 0
    assert len(list(tmp_path.glob("*.png"))) == 8
    assert (tmp_path / "labels.csv").read_text().splitlines()[0] == "file,label"
