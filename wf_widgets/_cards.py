"""Static HTML cards for ``_repr_html_`` (catalog.Image, ImageResult, Job), and the text progress line.

Plain strings only: nothing here imports Jupyter packages, PIL or matplotlib. Thumbnails
are PNG files written with :mod:`zlib` and :mod:`struct`. A leaf of the bottom layer: it
imports nothing of wf_widgets, so any layer may draw a card or a progress line.
"""

from __future__ import annotations

import base64
import html
import math
import struct
import zlib
from typing import Iterable

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Characters of the text progress bar.
BAR_WIDTH = 6
#: The original client wrote each progress line left-justified to this many characters (its "\r" included).
LINE_WIDTH = 79
#: Stages in which the text bar is drawn full, as the original drew it (whatever the steps say).
_ENDED = ("SUCCEEDED", "FAILED", "CANCELLED")


def progress_fraction(steps_done: int, steps_total: int, stage: str) -> float:
    """How far a job is, 0.0 to 1.0 (1.0 for a succeeded job that counted no steps)."""
    frac = steps_done / steps_total if steps_total else (1.0 if stage == "SUCCEEDED" else 0.0)
    return min(max(frac, 0.0), 1.0)


def progress_line(steps_done: int, steps_total: int, stage: str) -> str:
    """``[###   ] | Steps: 3/6 | Stage: RUNNING`` (a 6-character bar), as the original client printed it.

    The bar is ``int(6 * steps_done / steps_total)`` characters (none while ``steps_total``
    is 0), and full once the job ended (SUCCEEDED, FAILED or CANCELLED), as the original's.
    """
    if stage in _ENDED:
        bar = "#" * BAR_WIDTH
    else:
        bar = "#" * int(BAR_WIDTH * min(max(steps_done / steps_total if steps_total else 0.0, 0.0), 1.0))
    return f"[{bar:<{BAR_WIDTH}}] | Steps: {steps_done}/{steps_total} | Stage: {stage}"


def progress_text(steps_done: int, steps_total: int, stage: str) -> str:
    """What the original wrote to redraw its progress line: ``"\r" + line``, left-justified to 79 characters."""
    return f"{chr(13) + progress_line(steps_done, steps_total, stage):<{LINE_WIDTH}}"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png_rgba(rgba: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of an 8-bit RGBA image of shape ``(y, x, 4)``, deflated at zlib ``level``."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + width * 4), dtype=np.uint8)
    rows[:, 0] = 0  # filter type None for every scanline
    rows[:, 1:] = rgba.reshape(height, width * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def _stretch(band: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Scale one band to 0..255 between the 2nd and 98th percentile of its valid pixels."""
    values = band[valid]
    if values.size == 0:
        return np.zeros(band.shape, dtype=np.uint8)
    lo, hi = np.percentile(values, [2, 98])
    if not hi > lo:
        hi = lo + 1.0
    scaled = (np.where(valid, band, lo) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def png_thumbnail(ndarray: np.ndarray, max_size: int = 128) -> bytes:
    """A small PNG preview of an image array.

    Parameters
    ----------
    ndarray : numpy.ndarray or numpy.ma.MaskedArray
        Shape ``(bands, y, x)`` or ``(y, x)``. One or two bands give a grey image (the
        first band); three or more give RGB from the first three.
    max_size : int
        Largest side of the thumbnail in pixels; the array is downsampled by striding.

    Returns
    -------
    bytes
        An 8-bit RGBA PNG. Each band is stretched between the 2nd and 98th percentile of
        its unmasked finite values; masked (or non-finite) pixels are transparent.
    """
    arr = np.ma.asanyarray(ndarray)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"png_thumbnail needs a non-empty (bands, y, x) array, got shape {arr.shape}")
    step = max(1, math.ceil(max(arr.shape[1:]) / max(1, int(max_size))))
    arr = arr[:3 if arr.shape[0] >= 3 else 1, ::step, ::step]
    data = np.asarray(np.ma.getdata(arr), dtype=np.float64)
    valid = ~np.ma.getmaskarray(arr) & np.isfinite(data)
    visible = valid.all(axis=0)
    channels = [_stretch(data[i], valid[i]) for i in range(arr.shape[0])]
    if len(channels) == 1:
        channels *= 3
    alpha = np.where(visible, 255, 0).astype(np.uint8)
    return encode_png_rgba(np.dstack(channels + [alpha]))


def image_card(title: str, rows: Iterable[tuple[str, str]], ndarray: np.ndarray | None = None) -> str:
    """A small static HTML card: a title, a table of rows and an optional thumbnail.

    Parameters
    ----------
    title : str
        Heading of the card (escaped).
    rows : iterable of (str, str)
        Label and value of each table row (both escaped).
    ndarray : numpy.ndarray, optional
        Image array ``(bands, y, x)`` shown as a PNG thumbnail (see :func:`png_thumbnail`).

    Returns
    -------
    str
        HTML with inline styles, usable as a ``_repr_html_`` result.
    """
    esc = html.escape
    table = "".join(
        f'<tr><th style="text-align:left;padding:1px 8px 1px 0;font-weight:600">{esc(str(k))}</th>'
        f'<td style="text-align:left;padding:1px 0">{esc(str(v))}</td></tr>'
        for k, v in rows
    )
    thumb = ""
    if ndarray is not None and np.size(ndarray):
        data = base64.b64encode(png_thumbnail(ndarray)).decode("ascii")
        thumb = (
            f'<img src="data:image/png;base64,{data}" alt="{esc(str(title))} thumbnail" '
            'style="image-rendering:pixelated;max-width:128px;max-height:128px;'
            'background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px">'
        )
    return (
        '<div class="wf-widgets-card" style="display:flex;gap:12px;align-items:flex-start;'
        'border:1px solid #ccc;border-radius:4px;padding:8px;font-family:sans-serif;font-size:13px">'
        f"{thumb}<div><div style=\"font-weight:bold;margin-bottom:4px\">{esc(str(title))}</div>"
        f"<table>{table}</table></div></div>"
    )


_STAGE_COLOURS = {"SUCCEEDED": "#1b5e20", "FAILED": "#b71c1c", "CANCELLED": "#555"}


def job_card(job) -> str:
    """A static HTML card of a Job: id, context, stage, a progress bar, and its result or error.

    Used by ``Job._repr_html_`` (notebook renderers without widgets, nbconvert output).
    Reads the Job's last refreshed state; a succeeded download or email job shows its
    signed link (``job.url``) and when it expires (or that it was revoked), a storage job the
    URL and size of the object it wrote.

    Returns
    -------
    str
        HTML with inline styles.
    """
    esc = html.escape
    total, done, stage = job.steps_total, job.steps_done, job.stage
    rows = [("stage", stage), ("steps", f"{done}/{total}")]
    if job.label:
        rows.append(("context", job.label))
    dest, fmt = job.destination or {}, job.format or {}
    rows.append(("destination", dest.get("type", "")))
    rows.append(("format", fmt.get("type", "")))
    table = "".join(
        f'<tr><th style="text-align:left;padding:1px 8px 1px 0;font-weight:600">{esc(str(k))}</th>'
        f'<td style="text-align:left;padding:1px 0">{esc(str(v))}</td></tr>'
        for k, v in rows
    )
    result = ""
    if stage == "SUCCEEDED":
        image = dest.get("image") if isinstance(dest.get("image"), dict) else None
        if image is not None:
            result += f"<div>Image: {esc(str(image.get('name')))} (id {esc(str(image.get('id')))})</div>"
        object_url = getattr(job, "object_url", None)
        if object_url:
            size = getattr(job, "result_size", None)
            result += (f'<div>Written to <code>{esc(object_url)}</code>'
                       f'{f" ({size:,} bytes)" if size is not None else ""}</div>')
        if getattr(job, "link_revoked", False):
            result += '<div style="color:#666">link revoked</div>'
        try:
            url = job.url
        except Exception:  # no server for the link: the card still shows the job
            url = None
        if url:
            expires = job.expires_datetime
            when = f" (expires {esc(expires.strftime('%Y-%m-%d %H:%M UTC'))})" if expires else ""
            result += f'<div><a href="{esc(url, quote=True)}" target="_blank" rel="noopener">download</a>{when}</div>'
    elif stage in ("FAILED", "CANCELLED"):
        err = job.error
        if err is not None:
            result += f'<div style="color:#b71c1c;white-space:pre-wrap">{esc(str(err))}</div>'
    colour = _STAGE_COLOURS.get(stage, "#0d47a1")
    percent = 100 * progress_fraction(done, total, stage)
    bar = (
        f'<div title="{esc(progress_line(done, total, stage))}" style="width:160px;height:8px;background:#ddd;'
        f'border-radius:4px;overflow:hidden;margin:4px 0"><div style="width:{percent:.1f}%;'
        f'height:100%;background:{colour}"></div></div>'
    )
    return (
        '<div class="wf-widgets-card wf-widgets-job" style="border:1px solid #ccc;border-radius:4px;padding:8px;'
        'font-family:sans-serif;font-size:13px;display:inline-block">'
        f'<div style="font-weight:bold;margin-bottom:4px">Job <code>{esc(job.id)}</code></div>'
        f"{bar}<table>{table}</table>{result}</div>"
    )
