import json

import pytest

from wf_widgets.errors import ValidationError
from wf_widgets.outputs import DESTINATIONS, FORMATS, format_choices, normalize


def test_defaults_are_fully_filled_and_json():
    dest, fmt = normalize("download", "pyarrow", "Int")
    assert dest == {"type": "download"}
    assert fmt == {"type": "pyarrow", "compression": "lz4"}
    dest, fmt = normalize({"type": "email", "subject": "My Computation is Done"}, {"type": "GeoTIFF"}, "Image")
    assert dest == {"type": "email", "subject": "My Computation is Done", "body": "Your Workflows job is done."}
    assert fmt == {"type": "geotiff", "overviews": True, "compression": "lzw", "overview_resampler": "nearest"}
    json.dumps([dest, fmt])


def test_names_and_enum_values_are_case_insensitive():
    dest, fmt = normalize("Download", {"type": "PYARROW", "compression": "ZSTD"}, "Int")
    assert dest["type"] == "download" and fmt["compression"] == "zstd"


@pytest.mark.parametrize("destination, format, kind, exc, match", [
    ("dropbox", "json", "Int", ValueError,
     r"Unknown destination 'dropbox' for 'destination'; allowed: 'download', 'email', 'catalog'"),
    ("download", "csv", "Int", ValueError, r"Unknown format 'csv' for 'format'; allowed: 'pyarrow', 'json', 'geotiff', 'msgpack'"),
    ({"subject": "x"}, "json", "Int", ValueError, r"A destination dict must include a 'type' key; allowed types: 'download'"),
    ("download", {"compression": "lz4"}, "Int", ValueError, r"A format dict must include a 'type' key"),
    ({"type": "email", "subjekt": "x"}, "json", "Int", ValueError,
     r"Unknown option 'subjekt' for destination 'email'; allowed options: 'subject', 'body'"),
    ({"type": "download", "foo": 1}, "json", "Int", ValueError,
     r"Unknown option 'foo' for destination 'download'; allowed options: none \(Download takes no options\)"),
    ("download", {"type": "pyarrow", "compression": "gzip"}, "Int", ValueError,
     r"Unknown value 'gzip' for 'format.compression'; allowed: 'lz4', 'zstd'"),
    ({"type": "email", "subject": 5}, "json", "Int", TypeError, r"destination.subject must be a str, got int 5"),
    ("download", {"type": "geotiff", "overviews": "yes"}, "Image", TypeError,
     r"format.overviews must be a bool \(True or False\), got str 'yes'"),
    (42, "json", "Int", TypeError, r"destination must be a str or a dict with a 'type' key or a catalog.Image, got int 42"),
    ("download", ["json"], "Int", TypeError, r"format must be a str or a dict with a 'type' key, got list"),
    ("download", "geotiff", "Int", ValueError,
     r"Format 'geotiff' can't be used here: GeoTIFF needs an Image result, not an Int. "
     r"Allowed formats for an Int result sent to download: 'pyarrow', 'json', 'msgpack'"),
    ({"type": "email", "subject": "a\r\nBcc: x@example.org"}, "json", "Int", ValueError,
     r"destination.subject must be a single line: CR and LF are not allowed"),
    ({"type": "catalog", "image": None}, "geotiff", "Int", ValueError,
     r"The catalog destination can only be used with an Image result, not an Int"),
])
def test_bad_input_names_field_value_and_allowed(destination, format, kind, exc, match):
    with pytest.raises(exc, match=match) as info:
        normalize(destination, format, kind)
    assert isinstance(info.value, ValidationError)
    assert info.value.field


def test_validation_error_carries_field_and_allowed():
    with pytest.raises(ValidationError) as info:
        normalize("download", "csv", "Int")
    assert info.value.field == "format"
    assert info.value.value == "csv"
    assert info.value.allowed == tuple(FORMATS)


def test_email_body_may_span_lines():
    dest, _ = normalize({"type": "email", "body": "line 1\nline 2"}, "json", "Int")
    assert dest["body"] == "line 1\nline 2"


def test_format_choices_give_reasons():
    choices = dict(format_choices("download", "Int"))
    assert choices["pyarrow"] is None and choices["json"] is None
    assert choices["geotiff"] == "GeoTIFF needs an Image result, not an Int"
    catalog = dict(format_choices("catalog", "Image"))
    assert catalog["geotiff"] is None
    assert catalog["json"] == "Catalog accepts only GeoTIFF"


def test_every_table_entry_is_consistent():
    for dest in DESTINATIONS.values():
        for name in dest.formats or ():
            assert name in FORMATS
        for opt in dest.options:
            if opt.type == "enum":
                assert opt.default in opt.allowed
    for fmt in FORMATS.values():
        for opt in fmt.options:
            if opt.type == "enum":
                assert opt.default in opt.allowed
