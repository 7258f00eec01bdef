"""Safe decoding of uploaded inspection images.

Uploads are limited in bytes (checked while reading, before anything is decoded) and in pixels
(checked from the header, before the pixel data is decompressed), so a small PNG that inflates to
gigabytes - a decompression bomb - is refused without being expanded. Only PNG and JPEG are
accepted, by declared content type and by the file's actual format.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

ALLOWED_CONTENT_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG"}
TOO_LARGE = "Image too large"
TOO_MANY_PIXELS = "Image has too many pixels"
UNSUPPORTED_TYPE = "Unsupported image type"
UNREADABLE = "Unreadable image"


class ImageRejected(Exception):
    """An upload refused with an HTTP status (413, 415 or 422) and a short detail."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def check_content_type(content_type: str | None) -> None:
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in ALLOWED_CONTENT_TYPES:
        raise ImageRejected(415, UNSUPPORTED_TYPE)


def decode_image(data: bytes, content_type: str | None, max_pixels: int, size: int) -> np.ndarray:
    """Validate and decode to uint8 RGB ``(size, size, 3)``; raise ImageRejected otherwise."""
    check_content_type(content_type)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
            if image.format not in ALLOWED_CONTENT_TYPES.values():
                raise ImageRejected(415, UNSUPPORTED_TYPE)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(413, TOO_MANY_PIXELS)
            image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at reduced scale, cheaper
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(413, TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected(422, UNREADABLE) from None
    return np.asarray(rgb, dtype=np.uint8)
