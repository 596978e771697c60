"""Properties of ``normalize``: it returns JSON-able dicts or raises ValidationError, and accepts its own output."""

from __future__ import annotations

import datetime as dt
import json
import string

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wf_widgets.catalog import Image
from wf_widgets.errors import ValidationError
from wf_widgets.outputs import DESTINATIONS, FORMATS, normalize
from wf_widgets.outputs.registry import ALL_KINDS, LINE_BREAKS, REQUIRED, Option

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: JSON-like values of every kind, the wrong types of most options.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def case_variants(name: str) -> st.SearchStrategy[str]:
    """``name`` with each letter in upper or lower case."""
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper)))


def entry_names(table: dict) -> st.SearchStrategy[str]:
    """Known names in any case, and other text."""
    return st.sampled_from(sorted(table)).flatmap(case_variants) | st.text(max_size=10)


#: Text with a good share of the characters the email rules care about.
mail_text = st.text(alphabet=st.sampled_from(string.printable + LINE_BREAKS + "=?é名\u0000\x7f\ud800") | st.characters(),
                    max_size=30)
#: Valid image and band names (and, from the same alphabet, a few invalid ones: only dots).
names = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=":/\\"),
                min_size=1, max_size=20) | st.sampled_from(["..", ".", "é" * 128, "名" * 100])
product_ids = st.from_regex(r"\A[a-z0-9_.-]{1,8}(:[A-Za-z0-9_.-]{1,8}){1,2}\Z") | st.sampled_from(["org:" + "p" * 300])
image_fields = {
    "id": st.none() | st.text(max_size=12),
    "acquired": st.none() | st.datetimes(timezones=st.just(dt.timezone.utc)).map(dt.datetime.isoformat)
    | st.sampled_from(["2020-01-01", "2020-01-01T10:00:00Z", "yesterday"]),
    "cs_code": st.sampled_from(["EPSG:32613", "EPSG:4326", "not a crs"]) | st.integers(-5, 40000),
    "geotrans": st.lists(st.floats() | st.integers() | st.sampled_from([10**400, float("nan"), float("inf")]),
                         min_size=6, max_size=6),
    "x_pixels": st.integers(-3, 10**20) | st.floats(),
    "y_pixels": st.integers(-3, 10**20),
    "extra_properties": st.dictionaries(st.text(max_size=6), json_values | st.sets(st.integers(), max_size=1),
                                        max_size=3),
    "created": st.none() | st.sampled_from(["2020-01-01T00:00:00+00:00"]),
    "files": st.none() | st.just([{"href": "files/x/y.tif", "size": 3}]),
}


@st.composite
def image_dicts(draw) -> dict:
    d = draw(st.fixed_dictionaries({"name": names | json_values, "product_id": product_ids | json_values},
                                   optional={**image_fields, "bogus": json_values}))
    if draw(st.booleans()) and isinstance(d.get("name"), str) and isinstance(d.get("product_id"), str):
        d["id"] = f"{d['product_id']}:{d['name']}"
    return d


@st.composite
def images(draw) -> Image:
    """catalog.Image objects: whatever a user could have made."""
    fields = draw(st.fixed_dictionaries({"name": names, "product_id": product_ids},
                                        optional={k: image_fields[k] for k in ("acquired", "extra_properties")}))
    try:
        return Image(**{k: v for k, v in fields.items() if k != "id"})
    except ValidationError:
        return Image(name="fallback", product_id="org:p")


def option_values(opt: Option, valid_only: bool = False) -> st.SearchStrategy:
    """Values of ``opt``: well-typed ones, and (unless ``valid_only``) anything else too."""
    if opt.type == "bool":
        good = st.booleans()
    elif opt.type == "enum":
        good = st.sampled_from(opt.allowed).flatmap(case_variants)
    elif opt.type == "str":
        good = mail_text | st.text(max_size=20)
    elif opt.type == "catalog.Image":
        good = images() | image_dicts()
    else:
        raise AssertionError(opt.type)
    return good if valid_only else good | json_values


@st.composite
def specs(draw, table: dict):
    """What a user may pass as a destination or format: a name, a dict, an Image, or anything else."""
    shape = draw(st.sampled_from(["name", "dict", "dict", "dict", "other"] + (["image"] if table is DESTINATIONS else [])))
    if shape == "name":
        return draw(entry_names(table))
    if shape == "other":
        return draw(json_values)
    if shape == "image":
        return draw(images())
    name = draw(entry_names(table) | json_values)
    entry = table.get(name.lower()) if isinstance(name, str) else None
    spec = {} if draw(st.integers(0, 20)) == 0 else {"type": name}
    for opt in draw(st.lists(st.sampled_from(entry.options), unique=True)) if entry and entry.options else ():
        spec[opt.name] = draw(option_values(opt))
    if draw(st.integers(0, 8)) == 0:
        spec[draw(st.text(max_size=8))] = draw(json_values)
    return spec


@st.composite
def focused_specs(draw, table: dict, only: tuple[str, ...] | None = None):
    """A dict for a known entry (any case) with some of its options, well-typed, or its name alone."""
    entry = table[draw(st.sampled_from(only or sorted(table)))]
    name = draw(case_variants(entry.name))
    if draw(st.integers(0, 3)) == 0:
        return name
    spec = {"type": name}
    for opt in entry.options:
        if opt.default is REQUIRED or draw(st.booleans()):
            spec[opt.name] = draw(option_values(opt, valid_only=True))
    return spec


destinations = specs(DESTINATIONS) | focused_specs(DESTINATIONS)
formats = specs(FORMATS) | focused_specs(FORMATS)
kinds = st.sampled_from(sorted(ALL_KINDS)) | st.sampled_from(["Image", "Any"])


def _normalize_or_refuse(destination, format, kind):
    try:
        return normalize(destination, format, kind)
    except ValidationError:
        return None


@SETTINGS
@given(destinations, formats, kinds)
def test_normalize_returns_json_dicts_or_raises_validation_error(destination, format, kind):
    out = _normalize_or_refuse(destination, format, kind)  # any other exception fails the test
    event("refused" if out is None else f"accepted: {out[0]['type']}")
    if out is None:
        return
    dest, fmt = out
    assert isinstance(dest, dict) and isinstance(fmt, dict)
    assert dest["type"] in DESTINATIONS and fmt["type"] in FORMATS
    json.dumps([dest, fmt])


@SETTINGS
@given(destinations, formats, kinds)
def test_normalize_accepts_its_own_output_unchanged(destination, format, kind):
    out = _normalize_or_refuse(destination, format, kind)
    if out is None:
        return
    assert normalize(*out, kind) == out
    assert normalize(json.loads(json.dumps(out[0])), json.loads(json.dumps(out[1])), kind) == out  # from a job row


@pytest.mark.parametrize("name", ["email", "catalog"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_destination_normalises_its_own_output(name, data):
    """The same two properties, for well-formed input to one destination (the general strategy seldom gets there)."""
    destination = data.draw(focused_specs(DESTINATIONS, only=(name,)))
    format = data.draw(focused_specs(FORMATS, only=("geotiff",)) if name == "catalog" else formats)
    kind = data.draw(st.sampled_from(["Image", "Any"]))
    out = _normalize_or_refuse(destination, format, kind)
    event("refused" if out is None else "accepted")
    if out is not None:
        json.dumps(out)
        assert normalize(*out, kind) == out


@pytest.mark.parametrize("destination", [
    Image(name="my_image", product_id="org:p", acquired="2020-05-01T10:00:00Z", extra_properties={"cloud": 0.5},
          cs_code="EPSG:32613", geotrans=(500000, 10, 0, 4000000, 0, -10), x_pixels=3, y_pixels=2),
    {"type": "CATALOG", "image": {"name": "n", "product_id": "org:p", "acquired": "2020-01-01"}, "overwrite": True},
])
def test_the_catalog_image_dict_normalises_again(destination):
    dest, fmt = normalize(destination, "PyArrow", "Image")
    assert normalize(dest, fmt, "Image") == (dest, fmt)
    assert dest["image"]["id"] == f"{dest['image']['product_id']}:{dest['image']['name']}"


@pytest.mark.parametrize("image, field, match", [
    ({"name": "n", "product_id": "org:p", "colour": "red"}, "destination.image.colour", r"Unknown key 'colour' in "
     r"destination\.image; allowed keys: 'name', 'product_id'"),
    ({"name": "n", "product_id": "org:p", "id": "org:p:other"}, "destination.image.id",
     r"destination\.image\.id must be '<product_id>:<name>' \('org:p:n'\), got 'org:p:other'"),
    ({"product_id": "org:p"}, "destination.image.name", r"destination\.image needs a 'name'"),
    ({"name": "n", "product_id": "org:p", "geotrans": [0, float("nan"), 0, 0, 0, -1]}, "geotrans",
     r"geotrans must be 6 finite numbers"),
    ({"name": "n", "product_id": "org:p", "geotrans": [0, 10**400, 0, 0, 0, -1]}, "geotrans",
     r"geotrans must be 6 finite numbers"),
    ({"name": "n", "product_id": "org:p", "extra_properties": {"a": {1, 2}}}, "extra_properties",
     r"extra_properties must be JSON-able"),
])
def test_bad_image_dicts_name_the_field(image, field, match):
    with pytest.raises(ValidationError, match=match) as info:
        normalize({"type": "catalog", "image": image}, "geotiff", "Image")
    assert info.value.field == field
