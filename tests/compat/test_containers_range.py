"""Port of the original client's ``workflows/types/containers/tests/test_range.py`` (expected values unchanged)."""

from wf_widgets import Int, List
from wf_widgets import range as wf_range


def test_range():
    assert isinstance(wf_range(10), List[Int])
    assert isinstance(wf_range(0, 10), List[Int])
    assert isinstance(wf_range(0, 10, 2), List[Int])
