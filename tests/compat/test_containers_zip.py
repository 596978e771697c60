"""Port of the original client's ``workflows/types/containers/tests/test_zip.py`` (expected values unchanged).

Not run: the ``FeatureCollection`` and ``GeometryCollection`` examples (no vector types in
wf_widgets); they are left out of ``examples`` (so of the all-examples case too). See docs/compat.md.
"""

import pytest

from wf_widgets import Image, ImageCollection, Int, List, Str, Tuple
from wf_widgets import zip as wf_zip
from wf_widgets.errors import GraphTypeError as ProxyTypeError

from ._helpers import NO_VECTORS

examples = [
    List[Int]([1, 2, 3]),
    List[Str](["a", "b", "c"]),
    List[Tuple[Int, Str]]([(1, "foo"), (3, "bar")]),
    ImageCollection.from_id("foo"),
    Image.from_id("foo"),
]
VECTORS = [pytest.param((None,), marks=pytest.mark.skip(reason=NO_VECTORS), id=name)
           for name in ("FeatureCollection", "GeometryCollection")]


@pytest.mark.parametrize("args", [examples, ()] + [(ex,) for ex in examples] + VECTORS)
def test_zip(args):
    zipped = wf_zip(*args)
    assert isinstance(
        zipped,
        List[Tuple[tuple(getattr(arg, "_element_type", type(arg)) for arg in args)]],
    )


def test_zip_str():
    zipped = wf_zip(Str("abcd"), List[Int]([1, 2, 3]))
    assert isinstance(zipped, List[Tuple[Str, Int]])


@pytest.mark.parametrize(
    "seqs",
    [
        [List[Int]([1, 2, 3]), [1, 2, 3]],
        [List[Int]([1, 2, 3]), Tuple[Int, Int, Int]([1, 2, 3])],
        [List[Int]([1, 2, 3]), "asdf"],
    ],
)
def test_zip_wrong_args(seqs):
    with pytest.raises(
        ProxyTypeError, match="All arguments to 'zip' must be Proxytype sequences"
    ):
        wf_zip(*seqs)
