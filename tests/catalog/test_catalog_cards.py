"""PNG thumbnails and HTML cards (wf_widgets._cards)."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import numpy as np
import pytest

from wf_widgets._cards import image_card, png_thumbnail


def decode_png(png: bytes) -> np.ndarray:
    """RGBA pixels of a PNG written by png_thumbnail (8-bit RGBA, filter 0), checking its chunks."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = data
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 6) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * 4)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, 4)


def test_png_signature_size_and_transparency():
    arr = np.ma.masked_array(np.linspace(0, 1, 3 * 200 * 300).reshape(3, 200, 300))
    arr[:, :30, :] = np.ma.masked
    png = png_thumbnail(arr, max_size=128)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (100, 67)  # stride 3
    rgba = decode_png(png)
    assert (rgba[:10, :, 3] == 0).all() and (rgba[10:, :, 3] == 255).all()
    assert rgba[10:, :, 0].min() == 0 and rgba[10:, :, 0].max() == 255  # 2-98 % stretch


@pytest.mark.parametrize("bands", [1, 2])
def test_one_or_two_bands_are_grey(bands):
    arr = np.random.default_rng(1).random((bands, 40, 50))
    rgba = decode_png(png_thumbnail(arr))
    assert rgba.shape == (40, 50, 4)
    assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all()


def test_odd_inputs():
    assert decode_png(png_thumbnail(np.zeros((16, 16))))[..., 3].min() == 255  # 2-D, constant
    nan = np.full((1, 8, 8), np.nan)
    assert decode_png(png_thumbnail(nan))[..., 3].max() == 0  # nothing finite: all transparent
    all_masked = np.ma.masked_all((3, 8, 8))
    assert decode_png(png_thumbnail(all_masked))[..., 3].max() == 0
    with pytest.raises(ValueError, match="non-empty"):
        png_thumbnail(np.zeros((1, 0, 5)))


def test_image_card_escapes_and_embeds_the_thumbnail():
    html = image_card("<Image>", [("id", "a&b"), ("<k>", "<script>")], np.ones((1, 4, 4)))
    assert "&lt;Image&gt;" in html and "a&amp;b" in html and "&lt;script&gt;" in html and "<script>" not in html
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert decode_png(base64.b64decode(data)).shape == (4, 4, 4)
    assert "<img" not in image_card("t", [("a", "b")])
