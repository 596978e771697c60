from pathlib import Path

from wf_widgets.outputs.tables import destinations_table, formats_table, render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_tables_are_generated_from_the_registry():
    for name in ("formats.md", "destinations.md"):
        text = (DOCS / name).read_text()
        assert render(text) == text, f"docs/{name} is stale: run python -m wf_widgets.outputs.tables"
    assert "`geotiff` (GeoTIFF) | `image/tiff` | `.tif` | Image" in formats_table()
    assert "| `catalog` | a catalog.Image | `geotiff` |" in destinations_table()
