"""Decoding untrusted images with Pillow: its failures, in this service's error types.

Pillow refuses a frame size it deems a decompression bomb (`DecompressionBombError`, more than
twice `Image.MAX_IMAGE_PIXELS`) and a text chunk that inflates beyond its limit (`ValueError`,
"Decompressed Data Too Large"): both are media too large (413, exit 5). Anything else it cannot
read is corrupt media (422, exit 4), told without the local file name Pillow puts in its text.
"""

from __future__ import annotations

from shared.errors import CorruptMedia, DFSError, MediaTooLarge, public_text

#: What Pillow raises on an image it will not or cannot decode.
PILLOW_ERRORS: tuple[type[BaseException], ...] = (OSError, SyntaxError, ValueError, EOFError)


def pillow_errors() -> tuple[type[BaseException], ...]:
    from PIL import Image

    return (*PILLOW_ERRORS, Image.DecompressionBombError)


def image_error(exc: BaseException) -> DFSError:
    """The error to report for an exception Pillow raised while opening or decoding."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, Image.DecompressionBombError):
        return MediaTooLarge("the image's frame size exceeds the number of pixels that may be decoded safely")
    if isinstance(exc, ValueError) and "too large" in str(exc).lower():
        return MediaTooLarge("the image holds compressed metadata that inflates beyond the safe limit")
    if isinstance(exc, UnidentifiedImageError):
        return CorruptMedia(
            "image could not be decoded: the file is damaged or not the image it claims to be"
        )
    return CorruptMedia(f"image could not be decoded: {public_text(str(exc))}"[:300])
