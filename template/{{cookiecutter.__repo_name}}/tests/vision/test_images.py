"""Upload decoding: byte and pixel limits, decompression bombs, content types."""

import io

import numpy as np
import pytest
from PIL import Image

from copilot.vision.images import ImageRejected, decode_image


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_png_and_jpeg_decode_to_model_input() -> None:
    for fmt, content_type in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        pixels = decode_image(encode(Image.new("RGB", (300, 200), (120, 120, 130)), fmt), content_type, 10**6, 64)
        assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8


def test_decompression_bomb_is_413_without_decoding() -> None:
    bomb = encode(Image.new("1", (6_000, 6_000)))  # a few KB on disk, 36 megapixels decoded
    assert len(bomb) < 50_000
    with pytest.raises(ImageRejected) as rejected:
        decode_image(bomb, "image/png", 16_000_000, 64)
    assert (rejected.value.status_code, rejected.value.detail) == (413, "Image has too many pixels")


@pytest.mark.parametrize("content_type", ["text/plain", "image/gif", "application/octet-stream", None])
def test_wrong_content_type_is_415(content_type: str | None) -> None:
    with pytest.raises(ImageRejected) as rejected:
        decode_image(encode(Image.new("RGB", (8, 8))), content_type, 10**6, 64)
    assert rejected.value.status_code == 415


def test_format_must_match_what_is_declared() -> None:
    gif = encode(Image.new("RGB", (8, 8)), "GIF")
    with pytest.raises(ImageRejected) as rejected:
        decode_image(gif, "image/png", 10**6, 64)
    assert rejected.value.status_code == 415


def test_garbage_is_422() -> None:
    with pytest.raises(ImageRejected) as rejected:
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png", 10**6, 64)
    assert (rejected.value.status_code, rejected.value.detail) == (422, "Unreadable image")
