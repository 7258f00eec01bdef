"""The vision endpoint: classification, RBAC, upload limits and content types."""

import io

import pytest
from PIL import Image

from copilot.vision.synthetic import CLASSES, generate

pytestmark = pytest.mark.anyio


def png(array=None, size=(64, 64)) -> bytes:  # type: ignore[no-untyped-def]
    image = Image.fromarray(array) if array is not None else Image.new("RGB", size, (128, 128, 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def test_classifies_an_inspection_image(client, auth, plant, equipment) -> None:  # type: ignore[no-untyped-def]
    images, labels = generate(1, seed=31337)
    corrosion = int(list(labels).index(CLASSES.index("corrosion")))
    response = await client.post(
        "/v1/vision/classify",
        files={"image": ("panel.png", png(images[corrosion]), "image/png")},
        data={"plant": plant, "equipment": equipment},
        headers=auth(role="operator"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] == "corrosion" and 0.5 < body["confidence"] <= 1
    assert set(body["probabilities"]) == set(CLASSES)
    assert body["model_version"] == "inspection-cnn-1" and body["equipment"] == equipment


@pytest.mark.lab("lab02")  # plant-level RBAC is lab02's deliverable
async def test_other_plant_is_403(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/vision/classify",
        files={"image": ("p.png", png(), "image/png")},
        data={"plant": other_plant},
        headers=auth(plants=[plant]),
    )
    assert response.status_code == 403


async def test_wrong_content_type_is_415(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/vision/classify",
        files={"image": ("notes.txt", b"hello", "text/plain")},
        data={"plant": plant},
        headers=auth(),
    )
    assert response.status_code == 415
    assert response.json() == {"detail": "Unsupported image type"}


async def test_too_many_bytes_is_413(client, auth, plant, settings) -> None:  # type: ignore[no-untyped-def]
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (settings.max_upload_bytes + 10)
    response = await client.post(
        "/v1/vision/classify", files={"image": ("big.png", big, "image/png")}, data={"plant": plant}, headers=auth()
    )
    assert response.status_code == 413


async def test_decompression_bomb_is_413(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    bomb = io.BytesIO()
    Image.new("1", (6_000, 6_000)).save(bomb, format="PNG")
    response = await client.post(
        "/v1/vision/classify",
        files={"image": ("bomb.png", bomb.getvalue(), "image/png")},
        data={"plant": plant},
        headers=auth(),
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Image has too many pixels"}


async def test_missing_image_is_422(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/vision/classify", data={"plant": plant}, headers=auth())
    assert response.status_code == 422
    assert ["body", "image"] in [err["loc"] for err in response.json()["detail"]]
