"""The committed inspection model: loads safely and meets the held-out accuracy goal."""

import numpy as np
import pytest
import torch

from copilot.vision.model import InspectionNet, ModelBundle, load_bundle, save_bundle, to_tensor
from copilot.vision.synthetic import CLASSES, generate
from copilot.vision.train import TrainConfig, evaluate, train
from tests.conftest import REPO

WEIGHTS = REPO / "models" / "inspection-cnn.pt"


def test_committed_weights_meet_the_accuracy_goal_on_held_out_images() -> None:
    bundle = load_bundle(WEIGHTS)
    assert bundle.classes == CLASSES
    assert WEIGHTS.stat().st_size < 1_000_000, "keep the committed weights small"
    # A seed the training run never used: images the model has not seen.
    images, labels = generate(100, seed=987_654)
    accuracy = evaluate(bundle.model, images, labels)
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f} is below the 95% goal"


def test_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    bundle = ModelBundle(InspectionNet(), CLASSES, 64, "test-1", {"heldout_accuracy": 0.5})
    save_bundle(bundle, tmp_path / "m.pt")
    loaded = load_bundle(tmp_path / "m.pt")
    x = to_tensor(generate(1, seed=0)[0])
    bundle.model.eval()
    with torch.inference_mode():
        assert torch.allclose(bundle.model(x), loaded.model(x))
    assert loaded.version == "test-1" and loaded.metrics == {"heldout_accuracy": 0.5}


def test_refuses_pickled_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": 1, "state_dict": Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        load_bundle(path)


@pytest.mark.slow
def test_a_short_training_run_learns() -> None:
    bundle = train(TrainConfig(train_per_class=80, eval_per_class=30, epochs=3, batch_size=16), log=False)
    assert bundle.metrics["heldout_accuracy"] > 0.5
    assert np.isfinite(bundle.metrics["train_accuracy"])
