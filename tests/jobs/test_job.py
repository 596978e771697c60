"""Job.get: by the whole id, a unique prefix, or the start of the id's random part."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.errors import ValidationError
from wf_widgets.jobs.store import ID_TIME_CHARS


def make(store, job_id: str, label: str | None = None) -> str:
    store.create(job_id, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                 destination={"type": "download"}, label=label)
    return job_id


def test_jobs_launched_together_differ_in_short_id_not_in_their_first_characters(backend):
    jobs = [(wf.Int(1) + i).compute(block=False) for i in range(5)]
    for job in jobs:
        job.wait(30)
    assert len({job.short_id for job in jobs}) == 5
    assert all(job.short_id == job.id[ID_TIME_CHARS:ID_TIME_CHARS + 8] for job in jobs)
    for job in jobs:
        assert wf.Job.get(job.short_id) == job
        assert wf.Job.get(job.short_id.upper()) == job
        assert wf.Job.get(job.id) == job


def test_a_unique_prefix_or_fragment_names_one_job(backend):
    store = backend.jobs
    time = "0191aaaaaaaa"
    a = make(store, time + "3fa9c2d1" + "0" * 28, label="1024:16:10.0:13:-34:1542")
    b = make(store, time + "3fa9d000" + "1" * 28, label="1024:16:10.0:13:-34:1543")
    c = make(store, "0191bbbbbbbb" + "77" * 18)
    assert wf.Job.get("3fa9c").id == a  # the random part's start
    assert wf.Job.get(a[:20]).id == a  # a prefix of the whole id
    assert wf.Job.get("0191b").id == c
    assert wf.Job.get(b).id == b
    assert wf.Job.get("3fa9d000" + "1" * 20).id == b  # a longer fragment than the index holds

    with pytest.raises(ValidationError, match=r"'3fa9' matches 2 jobs; give more of the id:\n  3fa9d000  "
                                              rf"{b}  QUEUED .*1024:16:10.0:13:-34:1543\n  3fa9c2d1  {a}") as info:
        wf.Job.get("3fa9")
    assert info.value.field == "job_id"
    with pytest.raises(ValidationError, match="'0191a' matches 2 jobs"):
        wf.Job.get("0191a")
    with pytest.raises(ValidationError, match="No job with id 'abcdef'"):
        wf.Job.get("abcdef")
    for bad in ("", "xyz", "3fa9-c", "0" * 49):
        with pytest.raises(ValidationError, match=rf"No job with id {bad!r} in .*are hexadecimal digits") as info:
            wf.Job.get(bad)
        assert info.value.field == "job_id"


def test_an_ambiguous_fragment_lists_a_few_and_counts_the_rest(backend):
    for i in range(12):
        make(backend.jobs, f"0191cccccc{i:02x}" + "ab" * 18)
    with pytest.raises(ValidationError, match=r"(?s)'0191cc' matches 12 jobs.*\n  \.\.\. and 7 more$") as info:
        wf.Job.get("0191cc")
    assert str(info.value).count("0191cccccc") == 5


def test_the_store_refuses_a_fragment_that_is_not_hexadecimal(backend):
    for bad in ("", "xyz", "3fa9-c", "0" * 49, None):
        with pytest.raises(ValidationError, match="1 to 48 hexadecimal digits") as info:
            backend.jobs.find_ids(bad)
        assert info.value.field == "job_id"
