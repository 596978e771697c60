import io
import os
import traceback

import msgpack
import numpy as np
import pyarrow as pa
import pytest

import wf_widgets as wf
from wf_widgets.errors import JobInvalid, JobTypeError, ValidationError


def job_count(backend):
    return len(backend.jobs.list(limit=10_000))


def test_spec_download_examples(backend):
    two = wf.Int(1) + 1
    assert two.compute() == 2
    assert two.compute(destination="download") == 2
    assert two.compute(destination="download", format="json") == b"2"
    assert msgpack.unpackb(two.compute(format="msgpack")) == 2
    assert two.compute(format={"type": "pyarrow", "compression": "zstd"}) == 2


@pytest.mark.parametrize("value, expected", [
    (wf.List([1, 2, 3]), [1, 2, 3]),
    (wf.Dict({"a": 1.5, "b": [True, "x"]}), {"a": 1.5, "b": [True, "x"]}),
    (wf.Float(2.5) * 2, 5.0),
    (wf.Str("a") + "b", "ab"),
    (wf.Bool(True) & False, False),
])
def test_containers_and_scalars_through_every_format(backend, value, expected):
    result = value.compute()
    assert result == expected and type(result) is type(expected)
    assert msgpack.unpackb(value.compute(format="msgpack")) == expected
    import json

    assert json.loads(value.compute(format="json")) == expected


def test_array_decodes_to_ndarray(backend):
    arr = np.arange(12, dtype="int16").reshape(3, 4)
    out = (wf.Array(arr) * 2).compute()
    assert isinstance(out, np.ndarray) and out.dtype == np.int16
    np.testing.assert_array_equal(out, arr * 2)


def test_pyarrow_bytes_are_an_arrow_ipc_stream(backend):
    job = (wf.Int(1) + 1).compute(block=False)
    buf = io.BytesIO()
    job.result_to_file(buf)
    table = pa.ipc.open_stream(buf.getvalue()).read_all()
    assert table.num_rows == 1
    assert table.schema.metadata[b"wf_widgets.kind"] == b"Int"


def test_file_argument_writes_the_encoded_result(backend, tmp_path):
    path = tmp_path / "two.json"
    assert (wf.Int(1) + 1).compute(format="json", file=path) is None
    assert path.read_bytes() == b"2"
    buf = io.BytesIO()
    (wf.Int(1) + 1).compute(format="json", file=buf)
    assert buf.getvalue() == b"2"


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(destination="dropbox"), ValueError, "Unknown destination 'dropbox'"),
    (dict(format="csv"), ValueError, "Unknown format 'csv'"),
    (dict(destination={"type": "download", "x": 1}), ValueError, "Unknown option 'x'"),
    (dict(destination={"subject": "x"}), ValueError, "must include a 'type' key"),
    (dict(destination=3.5), TypeError, "destination must be a str or a dict"),
    (dict(format="geotiff"), ValueError, "GeoTIFF needs an Image result"),
    (dict(destination="email"), ValueError, "WF_WIDGETS_EMAIL and WF_WIDGETS_SMTP_URL"),
    (dict(destination={"type": "email", "subject": "a\nb"}, block=False), ValueError, "single line"),
    (dict(geoctx=42), TypeError, "geoctx"),
])
def test_bad_input_raises_before_a_job_row_exists(backend, kwargs, exc, match):
    before = job_count(backend)
    with pytest.raises(exc, match=match) as info:
        (wf.Int(1) + 1).compute(**kwargs)
    assert isinstance(info.value, ValidationError)
    assert job_count(backend) == before


def test_block_false_returns_a_job_at_once(backend):
    job = (wf.Int(1) + 1).compute(block=False)
    assert isinstance(job, wf.Job)
    assert len(job.id) == 48 and int(job.id, 16) >= 0
    assert job.result() == 2
    assert job.stage == "SUCCEEDED" and job.done
    assert job.format == {"type": "pyarrow", "compression": "lz4"}
    assert job.destination == {"type": "download"}


def test_500_non_blocking_jobs_all_succeed(backend):
    jobs = [(wf.Int(i) * 2).compute(block=False) for i in range(500)]
    results = [job.result(timeout=120) for job in jobs]
    assert results == [i * 2 for i in range(500)]
    rows = backend.jobs.many([j.id for j in jobs])
    assert {r["stage"] for r in rows.values()} == {"SUCCEEDED"}
    assert all(r["steps_done"] == r["steps_total"] > 0 for r in rows.values())


def test_failed_job_maps_code_to_exception_and_leaves_no_file(backend):
    job = (wf.Int(1) / 0).compute(block=False, format="json")
    with pytest.raises(JobInvalid, match="ZeroDivisionError: division by zero"):
        job.wait()  # wait() raises the job's error, as the original's
    assert job.stage == "FAILED"
    assert job._row["error_code"] == "INVALID"
    with pytest.raises(JobInvalid, match="ZeroDivisionError: division by zero"):
        job.result()
    assert isinstance(job.error, JobInvalid)
    assert not backend.results.root.exists() or os.listdir(backend.results.root) == []  # made at first store


def test_type_failure_at_run_time_is_typing(backend):
    mixed = wf.List([1, "a"])
    with pytest.raises(JobTypeError, match="TypeError"):
        (mixed[0] + mixed[1]).compute()


def test_job_get_and_refresh(backend):
    job = (wf.Int(20) + 1).compute(block=False)
    same = wf.Job.get(job.id)
    assert same.result() == 21
    assert same.refresh().stage == "SUCCEEDED"
    with pytest.raises(ValueError, match="No job with id 'nope'"):
        wf.Job.get("nope")


@pytest.mark.parametrize("call", [
    lambda: (wf.Int(1) + 1).compute(format="jsn"),
    lambda: (wf.Int(1) + 1).compute(destination={"type": "email", "subjct": "x"}, block=False),
    lambda: wf.compute(wf.Int(1) + 1, format={"type": "json", "compresion": "lz4"}),
    lambda: wf.ImageCollection.from_id("sentinel-1:GRD").mean(axis="images").compute(),
    lambda: (wf.Int(1) // 0).compute(format="json"),  # a failed job: JobComputeError
    lambda: wf.Job.get("zz"),
])
def test_a_users_mistake_is_raised_from_the_public_call(backend, call):
    with pytest.raises(wf.WfError) as info:
        call()
    frames = traceback.extract_tb(info.value.__traceback__)
    # this test's frame, the lambda's, and the public call's: none of the package's internals
    assert len(frames) == 3, traceback.format_tb(info.value.__traceback__)
    assert frames[-1].name in ("compute", "get") and "raise exc.with_traceback(None) from None" in frames[-1].line
    assert info.value.__cause__ is None and info.value.__suppress_context__
    text = "".join(traceback.format_exception(info.value))
    assert text.count("\n") <= 12 and "During handling" not in text
