"""Codec benchmarks: a 2,000,000-element float64 Array through our codecs.

``codec_pyarrow``: our pyarrow ``encode`` (lz4) + ``decode`` against writing the same
buffer as a one-column Arrow IPC stream with the same compression and reading it back
to numpy with pyarrow directly (the reference keeps Arrow's output buffer; ours
returns ``bytes``).

``codec_msgpack``: our msgpack ``encode`` + ``decode`` against ``msgpack.packb`` of the
raw buffer as ``bin`` and ``np.frombuffer(msgpack.unpackb(...))`` (the reference
array is read-only; ours is a writeable copy).

Both targets: ratio <= 1.5. Sizes and the zstd figures are printed as text.
"""

from __future__ import annotations

import msgpack
import numpy as np
import pyarrow as pa

try:
    from _common import paired_medians, ratio_record
except ImportError:  # imported as benchmarks.codecs
    from benchmarks._common import paired_medians, ratio_record

from wf_widgets.outputs import codecs as wf_codecs

N = 2_000_000
TARGET = 1.5
REPEAT = 15


def _pyarrow_reference(arr: np.ndarray, compression: str) -> np.ndarray:
    batch = pa.record_batch([pa.array(arr)], names=["data"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_batch(batch)
    table = pa.ipc.open_stream(sink.getvalue()).read_all()
    return table.column(0).chunk(0).to_numpy()


def _msgpack_reference(raw: bytes) -> np.ndarray:
    return np.frombuffer(msgpack.unpackb(msgpack.packb(raw, use_bin_type=True)), dtype="<f8")


def _ours(fmt: str, arr: np.ndarray, options: dict) -> np.ndarray:
    return wf_codecs.decode(fmt, wf_codecs.encode(fmt, arr, options))


def run() -> list[dict]:
    """Time both codecs against their references on 2M float64; see the module doc."""
    arr = np.random.default_rng(0).random(N)
    raw = arr.tobytes()
    assert np.array_equal(_ours("pyarrow", arr, {"compression": "lz4"}), arr)
    assert np.array_equal(_ours("msgpack", arr, {}), arr)

    records: list[dict] = []
    for compression in ("lz4", "zstd"):
        ours, ref = paired_medians(
            lambda: _ours("pyarrow", arr, {"compression": compression}),
            lambda: _pyarrow_reference(arr, compression),
            repeat=REPEAT,
        )
        if compression == "lz4":
            records.append(ratio_record("codec_pyarrow", ours, ref, TARGET))
        size = len(wf_codecs.encode("pyarrow", arr, {"compression": compression}))
        records.append(
            {
                "name": f"codec_pyarrow_{compression}",
                "text": f"pyarrow/{compression}: 2M float64 encode+decode {ours * 1e3:.1f} ms "
                f"(pyarrow direct {ref * 1e3:.1f} ms, ratio {ours / ref:.2f}), {size / 1e6:.2f} MB",
            }
        )

    ours, ref = paired_medians(lambda: _ours("msgpack", arr, {}), lambda: _msgpack_reference(raw), repeat=REPEAT)
    records.append(ratio_record("codec_msgpack", ours, ref, TARGET))
    size = len(wf_codecs.encode("msgpack", arr, {}))
    records.append(
        {
            "name": "codec_msgpack_size",
            "text": f"msgpack: 2M float64 encode+decode {ours * 1e3:.1f} ms (raw bin {ref * 1e3:.1f} ms), {size / 1e6:.2f} MB",
        }
    )
    return records


if __name__ == "__main__":
    import json

    for rec in run():
        print(json.dumps(rec) if "ratio" in rec else rec.get("text", rec))
