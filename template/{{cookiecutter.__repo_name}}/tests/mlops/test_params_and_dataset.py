"""params.yaml and the versioned dataset: what the lifecycle reads before it trains anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.dataset import EVAL_DIR, TRAIN_DIR, DatasetError, load_split
from mlops.params import ParamsError, load_params
from tests.conftest import REPO


def test_the_repositorys_params_are_valid() -> None:
    params = load_params(REPO)
    assert params.registry.alias == "champion"
    assert params.acceptance["accuracy"] >= 0.9
    assert params.weak.epochs < params.train.epochs
    assert params.flat("train")["train.epochs"] == params.train.epochs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registry: [unclosed\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
        ((REPO / "params.yaml").read_text().replace("epochs: 8", "epochs: many"), "field 'train.epochs'"),
        ((REPO / "params.yaml").read_text().replace("CR-2026-0142", "change 142"), "field 'release.change_request'"),
    ],
)
def test_bad_params_are_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError, match=message):
        load_params(tmp_path)


def test_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path)


def test_the_splits_load_balanced_at_the_configured_size() -> None:
    params = load_params(REPO)
    train, evaluation = load_split(REPO / TRAIN_DIR), load_split(REPO / EVAL_DIR)
    size = params.data.image_size
    assert train.images.shape == (params.data.train_per_class * 4, size, size, 3)
    assert len(evaluation) == params.data.eval_per_class * 4
    assert sorted(set(evaluation.labels.tolist())) == [0, 1, 2, 3]
    small = train.per_class(3)
    assert len(small) == 12 and sorted(small.labels.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_a_split_with_an_unknown_label_is_refused(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,label\na.png,rust\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"labels.csv:2: label 'rust' is not one of"):
        load_split(tmp_path)
    with pytest.raises(DatasetError, match=r"labels\.csv is missing"):
        load_split(tmp_path / "nowhere")
