import json
import sys

import pytest

from wf_widgets.errors import ValidationError
from wf_widgets.outputs import DESTINATIONS, FORMATS, format_choices, normalize
from wf_widgets.outputs.registry import LINE_BREAKS
from wf_widgets.outputs.tables import destinations_table


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
     r"destination.subject must be a single line of plain text: 'a\\r\\nBcc: x@example.org' contains a line break "
     r"\(U\+000D CR\) at position 1. Allowed: one line of text without control characters"),
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


def test_line_breaks_are_what_splitlines_splits_on():
    splitters = {chr(c) for c in range(sys.maxunicode + 1) if len(f"a{chr(c)}b".splitlines()) > 1}
    assert splitters == set(LINE_BREAKS)


@pytest.mark.parametrize("char", sorted(set(LINE_BREAKS) | {"\t", "\x00", "\x7f", "\x9b"}))
def test_no_line_break_or_control_character_gets_into_the_subject(char):
    subject = f"Done{char}Bcc: eve@example.org"
    with pytest.raises(ValidationError, match=rf"destination\.subject must be a single line of plain text: .* contains "
                                              rf"a (line break|control character) \(U\+{ord(char):04X}\b") as info:
        normalize({"type": "email", "subject": subject}, "json", "Int")
    assert (info.value.field, info.value.value) == ("destination.subject", subject)


@pytest.mark.parametrize("subject", ["=?utf-8?q?x=0D=0ABcc:_evil@example.org?=", "ok =?iso-8859-1?B?eA0K?= ok",
                                     "=??Q?x?=", "=?utf-8*en?q?a b?="])
def test_encoded_words_are_refused_in_the_subject(subject):
    with pytest.raises(ValidationError, match=r"destination\.subject .* contains an RFC 2047 encoded word .*"
                                              r"Allowed: .*encoded words"):
        normalize({"type": "email", "subject": subject}, "json", "Int")


@pytest.mark.parametrize("subject", ["Résultat: 東京 ✓", "a = b? c ?= d", "=?", "100% done?=yes"])
def test_plain_subjects_pass(subject):
    assert normalize({"type": "email", "subject": subject}, "json", "Int")[0]["subject"] == subject


def test_the_body_rule_keeps_line_breaks_and_refuses_other_controls():
    body = "a\tb\r\nc" + LINE_BREAKS + "end"
    assert normalize({"type": "email", "body": body}, "json", "Int")[0]["body"] == body
    with pytest.raises(ValidationError, match=r"destination\.body must be plain text: 'a\\x00' contains a control "
                                              r"character \(U\+0000\) at position 1"):
        normalize({"type": "email", "body": "a\x00"}, "json", "Int")


def test_the_text_rules_are_in_the_help_of_the_docs_and_the_form():
    subject, body = DESTINATIONS["email"].option("subject"), DESTINATIONS["email"].option("body")
    assert subject.single_line and not body.single_line
    assert "RFC 2047 encoded words" in subject.description and "never into a header" in body.description
    assert subject.text.allowed in destinations_table() and body.text.allowed in destinations_table()


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
