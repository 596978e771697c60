"""``wf-widgets demo``: the spec's examples, end to end, on the embedded demo data.

Creates the demo product if missing, runs every example of the output-destinations
documentation with progress bars (download, email through a loopback SMTP sink when no
SMTP server is configured, catalog), uploads the composite over a 3x3 neighbourhood of
DLTiles, prints a download link and fetches it to prove it works, lists the catalog
images, and stops everything it started. Exits non-zero with a clear message on failure.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from typing import Any, Callable

import wf_widgets as wf

from ._context import BackendLike
from .delivery.smtp_sink import use_sink_if_unconfigured
from .demo_data import CENTER, make_demo_data
from .errors import WfError
from .server import stop_thread_server

#: The product the demo uploads into (the spec's "org:my_product_id", for the demo user).
DEMO_PRODUCT = "demo:composites"


def _section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def _show(code: str, fn: Callable[[], Any]) -> Any:
    print(f">>> {code}", flush=True)
    result = fn()
    if result is not None:
        print(result if isinstance(result, wf.catalog.Image) else repr(result), flush=True)
    return result


def download_examples() -> Any:
    """The Download examples, and each format; returns a finished job (its link is shown at the end)."""
    _section("Download")
    two = wf.Int(1) + 1
    _show("two.compute(destination='download')", lambda: two.compute(destination="download", progress_bar=True))
    _show("two.compute(destination='download', format='json')",
          lambda: two.compute(destination="download", format="json", progress_bar=True))
    _show("two.compute(format='msgpack')", lambda: two.compute(format="msgpack", progress_bar=True))
    _show("wf.Dict({'a': wf.List([1.5, 2]), 'b': wf.Str('x') + 'y'}).compute()",
          lambda: wf.Dict({"a": wf.List([1.5, 2]), "b": wf.Str("x") + "y"}).compute(progress_bar=True))
    job = two.compute(format="json", block=False)
    return job.wait()


def email_examples(backend: BackendLike) -> None:
    """The Email examples; without WF_WIDGETS_SMTP_URL they go to a loopback sink and are printed."""
    _section("Email")
    sink = use_sink_if_unconfigured(backend)
    if sink is not None:
        print(f"(WF_WIDGETS_SMTP_URL is not set: sending to a loopback SMTP sink at {sink.url})")
    try:
        two = wf.Int(1) + 1
        _show("two.compute(destination='email', format='json')",
              lambda: two.compute(destination="email", format="json", progress_bar=True))
        _show("two.compute(destination={'type': 'email', 'subject': 'My Computation is Done'}, format='json')",
              lambda: two.compute(destination={"type": "email", "subject": "My Computation is Done"}, format="json",
                                  progress_bar=True))
        if sink is not None:
            print("\nThe last message the sink caught:\n")
            print(sink.describe(sink.messages[-1]))
    finally:
        if sink is not None:
            sink.stop()
            backend.settings.smtp_url = None


def demo_product() -> Any:
    """The product the demo uploads into, as the spec assumes it: bands vv and vh with nodata set.

    Float32 in dB, so the spec's shorthand upload (no rescale, no dtype change) stores the
    composite as it is.
    """
    product = wf.catalog.Product.get(DEMO_PRODUCT)
    if product is None:
        product = wf.catalog.Product(id=DEMO_PRODUCT, name="Demo composites").save()
        for index, name in enumerate(("vv", "vh")):
            wf.catalog.MicrowaveBand(name=name, product_id=DEMO_PRODUCT, data_type="Float32", nodata=-9999.0,
                                     band_index=index).save()
    return product


def catalog_examples() -> None:
    """The Catalog examples: one tile, then the bulk pattern over a 3x3 neighbourhood."""
    _section("Catalog")
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    tile = wf.scenes.DLTile.from_latlon(CENTER[0], CENTER[1], 10, 1024, 0)
    result = _show("composite.compute(tile)", lambda: composite.compute(tile, progress_bar=True))
    masked = float(result.ndarray.mask.mean())
    print(f"  vv mean {result.ndarray[0].mean():.2f} dB, {masked:.1%} masked (no scene covers the east edge)")
    demo_product()
    image = wf.catalog.Image(name="my_image", product_id=DEMO_PRODUCT)
    if wf.catalog.Image.get(image.id) is not None:  # from an earlier demo run
        wf.catalog.Image.get(image.id).delete()
    _show("composite.compute(tile, destination=image)",
          lambda: composite.compute(tile, destination=image, progress_bar=True))
    options = {"type": "catalog", "image": image, "overwrite": True, "rescale": True, "change_dtype": True}
    _show("composite.compute(tile, destination={'type': 'catalog', 'image': image, 'overwrite': True, "
          "'rescale': True, 'change_dtype': True})",
          lambda: composite.compute(tile, destination=options, progress_bar=True))

    print("\n>>> the bulk pattern: one job per DLTile of a 3x3 neighbourhood")
    west, south, east, north = tile.geometry.bounds
    w, h = east - west, north - south
    aoi = {"type": "Polygon", "coordinates": [[(west - w * 0.9, south - h * 0.9), (east + w * 0.9, south - h * 0.9),
                                                (east + w * 0.9, north + h * 0.9), (west - w * 0.9, north + h * 0.9),
                                                (west - w * 0.9, south - h * 0.9)]]}
    tiles = [t for t in wf.scenes.DLTile.from_shape(aoi, 10, 1024, 0)
             if abs(t.path - tile.path) <= 1 and abs(t.row - tile.row) <= 1]
    images = [wf.catalog.Image(name=t.key.replace(":", "_"), product_id=DEMO_PRODUCT) for t in tiles]
    jobs = [composite.compute(t, destination={"type": "catalog", "image": img, "overwrite": True, "rescale": True,
                                              "change_dtype": True}, block=False) for t, img in zip(tiles, images)]
    for job in jobs:
        try:
            job.wait()
        except WfError:  # a failed or cancelled job: reported below, once every job ended
            pass
    failed = [j for j in jobs if j.stage != "SUCCEEDED"]
    if failed:
        raise RuntimeError(f"{len(failed)} upload job(s) failed: {failed[0].error}")
    print(f"{len(jobs)} jobs SUCCEEDED")

    _section(f"Catalog images of {DEMO_PRODUCT}")
    for img in sorted(wf.catalog.Product.get(DEMO_PRODUCT).images(), key=lambda i: i.name):
        print(f"  {img.id}  {img.x_pixels}x{img.y_pixels} px  acquired {img.acquired}")


def fetch_link(job: Any) -> None:
    """Show a job's download link and fetch it to show that it works."""
    _section("A download link")
    url = job.url  # the first link of this process: with the note that it lives as long as the process
    print(url, flush=True)
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    print(f"fetched it: HTTP {response.status}, {len(body)} bytes, {response.headers['Content-Type']}: {body!r}")


def run_demo() -> int:
    """Run every demo section; returns the process exit code."""
    start = time.monotonic()
    backend = wf.get_backend()
    try:
        _section("Demo data")
        product = make_demo_data()
        print(f"{product.id}: {len(list(product.images()))} scenes in {backend.settings.home}")
        job = download_examples()
        email_examples(backend)
        catalog_examples()
        fetch_link(job)
    except Exception as exc:  # the newcomer's first contact: say what failed, exit non-zero
        print(f"\nwf-widgets demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_thread_server(backend)
    print(f"\nDemo finished in {time.monotonic() - start:.1f} s.")
    return 0
