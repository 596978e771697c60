"""Building Image and ImageCollection graphs: types, static band names, checks (nothing is read)."""

from __future__ import annotations

import shutil

import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings
from wf_widgets.errors import GraphTypeError, NotFound, PermissionDenied, ValidationError
from wf_widgets.values.image import Image, ImageCollection, static_bands

from ..engine._helpers import make_product


@pytest.fixture
def backend(tmp_path):
    """``user:alice`` with a readable product ``org:s1`` (bands vv, vh, alpha) and ``org:one`` (band b1)."""
    b = Backend(Settings(home=tmp_path / "home", user="user:alice"), sweep=False)
    previous = set_backend(b)
    make_product(b.catalog, "org:s1", bands=("vv", "vh"), alpha=True)
    make_product(b.catalog, "org:one", bands=("b1",))
    yield b
    set_backend(previous)
    b.close()


@pytest.fixture
def ic(backend):
    return ImageCollection.from_id("org:s1", "2020-01-01", "2020-05-01")


def test_building_a_graph_touches_no_disk(tmp_path):
    """The spec's composite, and ops whose checks need no band names: no store opened, no file made."""
    home = tmp_path / "home"
    b = Backend(Settings(home=home, user="user:alice"), sweep=False)
    shutil.rmtree(home, ignore_errors=True)  # whether or not building the Backend made it
    previous = set_backend(b)
    try:
        ic = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01")
        composite = ic.mean(axis="images")
        assert type(composite) is Image and composite.to_json()["kind"] == "Image"
        more = [(composite * 2 + 1).log10().getmask(), ic.mosaic().concat_bands(composite), ic.max(axis="bands"),
                ic.length(), ic.median(axis="pixels"), Image.from_id("sentinel-1:GRD:one").clip_values(0, 1),
                (ic > 0.5).with_properties(note="x") + 1]
        assert [type(v).__name__ for v in more] == ["Image", "Image", "ImageCollection", "Int",
                                                    "List[Dict[Str, Float]]", "Image", "ImageCollection"]
    finally:
        set_backend(previous)
        b.close()
    assert not home.exists()


def test_public_names():
    assert wf.Image is Image and wf.ImageCollection is ImageCollection
    assert wf.values.KINDS["Image"] is Image and wf.values.KINDS["ImageCollection"] is ImageCollection


def test_from_id_graph_and_band_names(ic):
    assert isinstance(ic, ImageCollection) and ic.band_names == ["vv", "vh"]  # the alpha band is the mask
    node = ic.node
    assert node.op == "ic_from_id"
    assert node.args == ("org:s1", "2020-01-01T00:00:00+00:00", "2020-05-01T00:00:00+00:00", None, "near")
    rebuilt = wf.Value.from_json(ic.mean(axis="images").to_json())
    assert isinstance(rebuilt, Image) and rebuilt.band_names == ["vv", "vh"]
    assert ImageCollection.from_id("org:s1").id == ImageCollection.from_id("org:s1", resampler=None).id


@pytest.mark.parametrize("expr, cls", [
    (lambda ic, img: img + 1, Image),
    (lambda ic, img: 1.5 * img, Image),
    (lambda ic, img: img - wf.Float(2), Image),
    (lambda ic, img: img ** 2, Image),
    (lambda ic, img: img > 0, Image),
    (lambda ic, img: img == 0, Image),
    (lambda ic, img: (img > 0) & (img < 1), Image),
    (lambda ic, img: ~(img > 0), Image),
    (lambda ic, img: abs(-img), Image),
    (lambda ic, img: ic.abs(), ImageCollection),
    (lambda ic, img: img + img, Image),
    (lambda ic, img: ic * img, ImageCollection),
    (lambda ic, img: img / ic, ImageCollection),
    (lambda ic, img: ic - ic, ImageCollection),
    (lambda ic, img: ic >= 1, ImageCollection),
    (lambda ic, img: img.log10(), Image),
    (lambda ic, img: ic.sqrt().exp(), ImageCollection),
    (lambda ic, img: img + wf.Any_._from_node(img.node), wf.Any_),
])
def test_operator_result_types(ic, expr, cls):
    img = ic.mean(axis="images")
    result = expr(ic, img)
    assert type(result) is cls
    if cls is not wf.Any_:
        assert result.band_names == ["vv", "vh"]


@pytest.mark.parametrize("bad", [[1, 2], "text", wf.List([1])])
def test_unsupported_operands(ic, bad):
    with pytest.raises(GraphTypeError):
        ic.mean(axis="images") + bad


def test_truth_value_is_an_error(ic):
    with pytest.raises(GraphTypeError, match="truth value"):
        bool(ic.mean(axis="images") > 0)


def test_band_name_rules(ic, backend):
    img = ic.mean(axis="images")
    assert img.pick_bands("vh vv vh").band_names == ["vh", "vv", "vh_1"]
    assert img.pick_bands(["vv"]).band_names == ["vv"]
    assert img.rename_bands("a", "b").band_names == ["a", "b"]
    assert img.concat_bands(img).band_names == ["vv", "vh", "vv_1", "vh_1"]
    assert ic.concat_bands(img.pick_bands("vv")).band_names == ["vv", "vh", "vv_1"]
    assert (img.pick_bands("vv") - img.pick_bands("vh")).band_names == ["vv_sub_vh"]
    assert (img / img.pick_bands("vv")).band_names == ["vv", "vh"]
    assert img.getmask().band_names == ["mask"]
    assert ic.max(axis="bands").band_names == ["max"]
    assert ic.mosaic().band_names == ["vv", "vh"] and isinstance(ic.mosaic(), Image)
    other = ImageCollection.from_id("org:one").mean(axis="images")
    assert (img + other).band_names == ["vv", "vh"]  # one band broadcasts
    assert static_bands(wf.Int(1)) is None
    assert static_bands(img, backend) == ["vv", "vh"]


def test_unknown_band_name_lists_allowed(ic):
    with pytest.raises(ValidationError, match=r"Unknown band name\(s\) 'red'; allowed band names: 'vv', 'vh'") as info:
        ic.pick_bands("vv red")
    assert info.value.field == "bands" and info.value.allowed == ("vv", "vh")
    with pytest.raises(ValueError, match="allowed band names: 'vv_sub_vh'"):
        (ic.pick_bands("vv") - ic.pick_bands("vh")).pick_bands("vv")


def test_band_count_mismatch(ic):
    img = ic.mean(axis="images")
    three = img.concat_bands(img.pick_bands("vv"))
    with pytest.raises(ValidationError, match=r"Band count mismatch for 'mul': 2 band\(s\) \(vv, vh\) and 3"):
        img * three
    with pytest.raises(ValueError, match="Band count mismatch"):
        ic < three
    with pytest.raises(ValueError, match="rename_bands got 1 name"):
        img.rename_bands("x")
    with pytest.raises(ValueError, match="A mask needs 1 band or 2"):
        img.mask(three > 0)
    with pytest.raises(ValueError, match=r"min has 3 value\(s\) but the image has 2"):
        img.clip_values([0, 1, 2])


TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 16, 0)


def test_unknown_product_lists_readable_ids(backend):
    unknown = ImageCollection.from_id("org:nope").mean(axis="images")  # building asks no catalog
    with pytest.raises(NotFound, match=r"Unknown product id 'org:nope'; products you may read: 'org:one', 'org:s1'"):
        unknown.compute(TILE)
    with pytest.raises(NotFound, match=r"Unknown product id 'org:nope'"):
        unknown.band_names
    with pytest.raises(ValueError, match="Unknown image id 'org:s1:nope'"):
        Image.from_id("org:s1:nope").compute(TILE)
    with pytest.raises(ValueError, match="Unknown image id 'org:s1:nope'"):
        (Image.from_id("org:s1:nope") + 1).mean().compute(TILE)  # imagery inside a Float graph too
    assert backend.jobs.list() == []  # every error came before a job existed


def test_private_product_of_another_user(backend, tmp_path):
    bob = Backend(Settings(home=backend.settings.home, user="user:bob"), sweep=False)
    try:
        make_product(bob.catalog, "bob:private", readers=())
    finally:
        bob.close()
    with pytest.raises(PermissionDenied, match="user:alice may not read product 'bob:private'"):
        ImageCollection.from_id("bob:private").compute(TILE)
    with pytest.raises(PermissionDenied, match="user:alice may not read product 'bob:private'"):
        ImageCollection.from_id("bob:private").pick_bands("b1")  # an op whose check needs the band names
    with pytest.raises(NotFound, match="products you may read: 'org:one', 'org:s1'$"):
        ImageCollection.from_id("bob:other").compute(TILE)  # private ids are not listed
    assert backend.jobs.list() == []


def test_dates_limit_resampler(backend):
    with pytest.raises(ValidationError, match="Empty date range: start_datetime 2020-05-01T00:00:00"):
        ImageCollection.from_id("org:s1", "2020-05-01", "2020-01-01")
    with pytest.raises(ValidationError, match="Cannot parse 'May 1st'"):
        ImageCollection.from_id("org:s1", "May 1st")
    with pytest.raises(ValidationError, match="Unknown value 'nearest' for 'resampler'; allowed: 'near'"):
        ImageCollection.from_id("org:s1", resampler="nearest")
    with pytest.raises(ValidationError, match="limit must be None or an integer"):
        ImageCollection.from_id("org:s1", limit=-1)
    ic = ImageCollection.from_id("org:s1", wf.Datetime("2020-01-01"), end_datetime="2020-02-01T12:00:00Z", limit=3,
                                 resampler="bilinear")
    assert ic.node.args[1:] == ("2020-01-01T00:00:00+00:00", "2020-02-01T12:00:00+00:00", 3, "bilinear")


def test_reduction_result_types(ic):
    img = ic.mean(axis="images")
    assert isinstance(ic.mean(), wf.Float) and isinstance(ic.sum(axis=("images", "bands", "pixels")), wf.Float)
    assert isinstance(ic.median(axis="images"), Image)
    assert isinstance(ic.min(axis="bands"), ImageCollection)
    per_image = ic.max(axis="pixels")
    assert isinstance(per_image, wf.List) and isinstance(per_image[0], wf.Dict)
    assert isinstance(per_image[0]["vv"], wf.Float)
    by_band = ic.std(axis=("pixels", "images"))
    assert isinstance(by_band, wf.Dict) and isinstance(by_band["vv"], wf.Float)
    assert isinstance(ic.count(axis=("bands", "pixels"))[0], wf.Float)
    assert isinstance(ic.mean(axis=("images", "bands")), Image)
    assert isinstance(img.mean(axis="pixels"), wf.Dict) and isinstance(img.mean(), wf.Float)
    assert isinstance(img.sum(axis="bands"), Image) and isinstance(img.max(axis=("bands", "pixels")), wf.Float)
    assert isinstance(ic.length(), wf.Int)
    with pytest.raises(ValidationError, match="Invalid axis 'images' for an Image reduction"):
        img.mean(axis="images")
    with pytest.raises(ValidationError, match="Invalid axis 'time'"):
        ic.mean(axis="time")


def test_properties(ic):
    img = ic.mean(axis="images")
    assert isinstance(img.properties, wf.Dict)
    assert isinstance(img.properties["date"], wf.Datetime)
    assert isinstance(img.properties["product"], wf.Str)
    assert isinstance(img.properties["anything"], wf.Any_)
    assert isinstance(ic.properties, wf.List) and isinstance(ic.properties[0]["date"], wf.Datetime)
    tagged = img.with_properties(date=wf.Datetime("2020-03-01"), note="x")
    assert isinstance(tagged, Image) and tagged.band_names == ["vv", "vh"]


def test_mask_and_concat_types(ic):
    img = ic.mean(axis="images")
    assert isinstance(img.mask(img > 0), Image) and isinstance(ic.mask(img.pick_bands("vv") > 0), ImageCollection)
    assert isinstance(ic.mask(ic > 0, replace=True), ImageCollection)
    with pytest.raises(GraphTypeError, match="wf.Image.mask needs wf.Image"):
        img.mask(ic > 0)
    with pytest.raises(GraphTypeError, match="concat_bands needs wf.Image"):
        img.concat_bands(ic)
    with pytest.raises(GraphTypeError, match="clip_values needs min or max"):
        img.clip_values()
