"""Image and ImageCollection: lazy raster values read from the catalog.

Nothing is read while a graph is built; ``compute(geoctx)`` reads the scenes that
intersect the GeoContext, warped into its grid (see :mod:`wf_widgets.engine.reading`).
Values are float64 masked arrays, scaled into ``physical_range`` for bands that have one.

Building a graph touches no disk: the catalog is asked (the current backend's, as its
user) only when band names are needed. What is checked while the graph is built:

* ``start_datetime < end_datetime``, the limit, the resampler name, reduction axes;
* band names given to ``pick_bands``, ``rename_bands``, band counts of operators between
  two imagery values, of ``mask`` and of per-band ``clip_values`` lists: these checks need
  the band names, tracked statically (:attr:`Image.band_names`), so they ask the catalog
  (and fail there too, see below).

When a job prepares, before it exists and before any read, the whole graph is checked
again, with the catalog: the product (or image) exists and the current user may read it
(:class:`~wf_widgets.errors.NotFound` listing the readable product ids, or
:class:`~wf_widgets.errors.PermissionDenied`), and every band-name rule.
:func:`static_bands` (and :attr:`Image.band_names`) runs those checks on demand.

Band names (decisions; the rules live in :mod:`wf_widgets.values.imagery_rules`):

* from ``from_id``: the product's bands in band order, without its alpha band (which
  becomes part of the mask);
* ``pick_bands`` repeats get ``_1``, ``_2``, ...; ``concat_bands`` clashes get ``_1``;
* operators between two imagery values need equal band counts or one side with one band
  (broadcast); equal names are kept, a 1-band side takes the other's names, otherwise
  bands are named ``"<left>_<op>_<right>"``;
* reductions over ``"bands"`` give one band named after the reduction (``"mean"``),
  ``getmask()`` one band named ``"mask"``.

Properties: every image read has ``id``, ``product``, ``date`` (a UTC datetime), ``crs``,
``geotrans`` and its catalog ``extra_properties``. Results combining several images keep
the properties they share (a composite keeps ``product``, drops ``date``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

from .._context import BackendLike, current
from ..errors import GraphTypeError, ValidationError
from . import imagery_rules as rules
from .base import ARITHMETIC, COMPARISON, LOGICAL, TYPES, Any_, Value, bind, promote
from .containers import Dict, KnownDict, List
from .graph import Node
from .scalars import Datetime, Float, Int, Number, Str, _parse_datetime

_UNSET: Any = object()


#: Ops whose band names come from the catalog.
_FROM_CATALOG = frozenset({"ic_from_id", "image_from_id"})


class _CatalogOf:
    """The :class:`~wf_widgets.values.imagery_rules.Lookup` of a backend's catalog (as its user),
    opened only when a rule asks for band names; with no backend, the current one's at each ask."""

    __slots__ = ("backend",)

    def __init__(self, backend: BackendLike | None = None):
        self.backend = backend

    def _catalog(self) -> rules.Lookup:
        return (self.backend if self.backend is not None else current()).catalog

    def product_bands(self, product_id: str) -> list[str]:
        return self._catalog().product_bands(product_id)

    def image_product(self, image_id: str) -> str:
        return self._catalog().image_product(image_id)


#: The lookup of graph building.
_CURRENT_CATALOG = _CatalogOf()


def _info(arg: Any) -> Any:
    """What the static rules see for one argument, band names included (asking the catalog if needed)."""
    if isinstance(arg, _Imagery):
        return arg._static_info()
    if isinstance(arg, Value):
        return None
    return arg


def _known_info(arg: Any) -> Any:
    """What the static rules see for one argument without asking the catalog (band names may be None)."""
    if isinstance(arg, _Imagery):
        return arg._known()
    return _info(arg)


def _type_node(op: str, args: Sequence[Any]) -> tuple[rules.Imagery | None, bool]:
    """The static info of a new node ``op(*args)``, and whether it is final (band names worked out).

    Its kind is always known. The catalog is asked only when the op's own check needs band
    names (:func:`~wf_widgets.values.imagery_rules.checks_bands`): then the operands' band
    names are inferred and a problem raises here, at the line that built the node. Otherwise
    the rule runs without the catalog; its info is final when every imagery operand's is and
    the op doesn't take its bands from the catalog (else it is inferred when asked).
    """
    known = [_known_info(a) for a in args]
    if rules.checks_bands(op, known):
        return rules.apply(_CURRENT_CATALOG, op, [_info(a) for a in args]), True
    final = op not in _FROM_CATALOG and all(a._static is not _UNSET for a in args if isinstance(a, _Imagery))
    return rules.apply(None, op, known), final


def _node_arg(arg: Any) -> Any:
    return arg._node if isinstance(arg, Value) else arg


def _iso(value: Any, field: str) -> str | None:
    """A ``from_id`` date as an ISO string (it must be known while the graph is built)."""
    if value is None:
        return None
    if isinstance(value, Datetime):
        if value.node.op != "datetime":
            raise GraphTypeError(f"{field} must be a literal date (str, datetime or wf.Datetime(...)), "
                                 "not one computed in the graph")
        return value.node.args[0]
    return _parse_datetime(value).isoformat()


def _number_or_list(value: Any, field: str) -> Any:
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, (int, float)) for v in value):
        return list(value)
    if isinstance(value, Number):
        return value
    raise GraphTypeError(f"{field} must be a number, a list of numbers (one per band) or None, got {value!r}")


#: The properties of an Image: ``["date"]`` is a Datetime, ``["id"]``, ``["product"]``,
#: ``["crs"]`` are Str; any other key gives an Any.
ImageProperties = KnownDict[{"date": Datetime, "id": Str, "product": Str, "crs": Str}, Str, Any_]
#: A Dict of band name to Float (what a reduction over ``"pixels"`` gives).
BandStats = Dict[Str, Float]


class _Imagery(Value):
    """What Image and ImageCollection share: bands, element-wise math, masks, properties."""

    __slots__ = ("_static",)
    #: Axis -> result of the reductions (see :data:`wf_widgets.values.imagery_rules.REDUCE_RESULT`).
    kind: ClassVar[str]

    @classmethod
    def _from_node(cls, node: Node) -> "_Imagery":
        obj = object.__new__(cls)
        obj._node = node
        obj._static = _UNSET
        return obj

    @classmethod
    def _placeholder(cls) -> "_Imagery":
        """A value of this type that is never computed (for checking what operators give)."""
        obj = cls._from_node(Node("lit", (None,)))
        obj._static = rules.Imagery(cls.kind, None)
        return obj

    @classmethod
    def _build(cls, op: str, *args: Any) -> "_Imagery":
        """A new node ``op(*args)``, checked by its static rule; its class follows the rule's kind."""
        info, final = _type_node(op, args)
        result_cls = _CLASSES[info.kind] if info is not None else cls
        obj = result_cls._from_node(Node(op, tuple(_node_arg(a) for a in args)))
        obj._static = info if final else _UNSET
        return obj

    def _known(self) -> rules.Imagery | None:
        """The static info if worked out already, else the kind alone (bands None): no catalog read."""
        return rules.Imagery(self.kind, None) if self._static is _UNSET else self._static

    def _static_info(self) -> rules.Imagery | None:
        """The static info, band names included: inferred with the current backend's catalog on first use."""
        if self._static is _UNSET:
            self._static = rules.infer(self._node, _CURRENT_CATALOG)
        return self._static

    @property
    def band_names(self) -> list[str] | None:
        """Band names known before computing (from the current backend's catalog), or None if unknown.

        Raises
        ------
        NotFound, PermissionDenied, ValidationError
            As :func:`static_bands`.
        """
        return static_bands(self)

    # -- typing ----------------------------------------------------------------------------
    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is None:
            return cls if op in ("neg", "pos", "abs", "invert") else None
        if op not in ARITHMETIC | COMPARISON | LOGICAL:
            return None
        if issubclass(other, Number) or issubclass(other, _Imagery):
            return cls
        return None  # not even == and != : comparing imagery with a str or a list is a mistake

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        result = super()._binary(op, other, reflected)
        if isinstance(result, _Imagery):
            operands = [promote(other), self] if reflected else [self, promote(other)]
            info, final = _type_node(op, operands)
            result._static = info if final else _UNSET
        return result

    def _unary(self, op: str) -> Value:
        result = super()._unary(op)
        result._static = self._static  # same bands (worked out, or not yet)
        return result

    # -- bands -----------------------------------------------------------------------------
    def pick_bands(self, bands: str | Sequence[str]):
        """Only the given bands, in the given order.

        Parameters
        ----------
        bands : str or list of str
            Band names, as a list or one space-separated string (``"vv vh"``). A repeated
            name gets a suffix (``"vv vv"`` gives ``vv``, ``vv_1``).

        Raises
        ------
        ValidationError
            An unknown band name (the message lists the allowed ones).
        """
        return self._build("pick_bands", self, rules.split_band_names(bands))

    def rename_bands(self, *names: str):
        """The same bands under new names, given by position (one name per band)."""
        return self._build("rename_bands", self, [str(n) for n in names])

    def concat_bands(self, other: "_Imagery"):
        """The bands of ``other`` appended (a clashing name gets ``_1``).

        An ImageCollection takes an Image (added to every image) or an ImageCollection of
        the same length; an Image takes an Image.
        """
        allowed = (Image, ImageCollection) if isinstance(self, ImageCollection) else (Image,)
        if not isinstance(other, allowed):
            raise GraphTypeError(f"wf.{self.kind}.concat_bands needs "
                                 f"{' or '.join('wf.' + c.kind for c in allowed)}, got {type(other).__name__}")
        return self._build("concat_bands", self, other)

    # -- pixel math ------------------------------------------------------------------------
    def _math(self, name: str):
        return self._build("image_math", self, name)

    def abs(self):
        """Absolute value of every pixel (same as ``abs(img)``)."""
        return self._unary("abs")

    def log(self):
        """Natural logarithm of every pixel (pixels <= 0 become masked)."""
        return self._math("log")

    def log2(self):
        """Base-2 logarithm of every pixel (pixels <= 0 become masked)."""
        return self._math("log2")

    def log10(self):
        """Base-10 logarithm of every pixel (pixels <= 0 become masked)."""
        return self._math("log10")

    def sqrt(self):
        """Square root of every pixel (negative pixels become masked)."""
        return self._math("sqrt")

    def exp(self):
        """``e`` to the power of every pixel."""
        return self._math("exp")

    def sin(self):
        return self._math("sin")

    def cos(self):
        return self._math("cos")

    def tan(self):
        return self._math("tan")

    def arcsin(self):
        return self._math("arcsin")

    def arccos(self):
        return self._math("arccos")

    def arctan(self):
        return self._math("arctan")

    def clip_values(self, min: Any = None, max: Any = None):
        """Values below ``min`` become ``min``, above ``max`` become ``max``.

        Parameters
        ----------
        min, max : number, list of numbers or None
            One value for every band, or a list with one per band; None leaves that side.
        """
        if min is None and max is None:
            raise GraphTypeError("clip_values needs min or max (or both)")
        return self._build("clip_values", self, _number_or_list(min, "min"), _number_or_list(max, "max"))

    def scale_values(self, range_min: float, range_max: float, domain_min: float | None = None,
                     domain_max: float | None = None):
        """Map ``[domain_min, domain_max]`` linearly onto ``[range_min, range_max]``.

        Parameters
        ----------
        range_min, range_max : float
            The output range.
        domain_min, domain_max : float, optional
            The input range; default each band's minimum and maximum (over all images of a
            collection). A band whose domain is empty maps to ``range_min``.
        """
        args = [_number_or_list(v, n) for v, n in ((range_min, "range_min"), (range_max, "range_max"),
                                                     (domain_min, "domain_min"), (domain_max, "domain_max"))]
        if isinstance(args[0], list) or isinstance(args[1], list) or args[0] is None or args[1] is None:
            raise GraphTypeError("scale_values needs numbers for range_min and range_max")
        return self._build("scale_values", self, *args)

    # -- masks and properties ----------------------------------------------------------------
    def mask(self, mask: "_Imagery", replace: bool = False):
        """Mask pixels where ``mask`` is true (non-zero).

        Parameters
        ----------
        mask : Image or ImageCollection
            Boolean imagery (``img < 0.2``) with 1 band (applied to every band) or as many
            bands as this one; an ImageCollection can also be masked with an Image (applied
            to every image).
        replace : bool, default False
            False: add to the current mask; pixels masked in ``mask`` count as False.
            True: replace the current mask; pixels masked in ``mask`` become masked.
        """
        allowed = (Image, ImageCollection) if isinstance(self, ImageCollection) else (Image,)
        if not isinstance(mask, allowed):
            raise GraphTypeError(f"wf.{self.kind}.mask needs {' or '.join('wf.' + c.kind for c in allowed)}, "
                                 f"got {type(mask).__name__}")
        return self._build("mask", self, mask, bool(replace))

    def getmask(self):
        """The mask as imagery of one boolean band ``"mask"``: True where any band is masked."""
        return self._build("getmask", self)

    def with_properties(self, **properties: Any):
        """The same imagery with these properties added (or replaced) on every image."""
        values = [promote(v) for v in properties.values()]
        return self._build("with_properties", self, list(properties), *values)

    # -- reductions ----------------------------------------------------------------------------
    def _reduce(self, name: str, axis: Any) -> Value:
        canon = rules.canonical_axis(self.kind, axis)
        result = rules.REDUCE_RESULT[self.kind][canon]
        args = (self, name, list(canon) if canon is not None else None)
        if result in _CLASSES:
            return self._build("reduce", *args)
        node = Node("reduce", tuple(_node_arg(a) for a in args))
        if result == "Float":
            return Float._from_node(node)
        if result == "Dict":
            return BandStats._from_node(node)
        return (List[BandStats] if result == "ListOfDict" else List[Float])._from_node(node)

    #: The names :meth:`reduction` takes.
    _REDUCTION_NAMES: ClassVar[tuple[str, ...]] = rules.REDUCTIONS

    def reduction(self, operation: Any, axis: Any = None) -> Value:
        """The reduction ``operation`` over ``axis``: ``img.reduction("mean", axis="pixels")`` is ``img.mean(axis="pixels")``.

        Parameters
        ----------
        operation : str
            ``"min"``, ``"max"``, ``"mean"``, ``"median"``, ``"sum"``, ``"std"``, ``"count"``;
            for an ImageCollection also ``"mosaic"`` (over ``axis="images"`` only). A
            ``wf.Str`` literal works too; a Str computed in the graph doesn't (the name must
            be known while the graph is built).
        axis : str, tuple of str or None
            See the class docstring for the axes and the result type of each.

        Raises
        ------
        ValidationError
            An unknown operation or axis.
        """
        name = operation.literal_value if isinstance(operation, Str) else operation
        allowed = self._REDUCTION_NAMES
        if not isinstance(name, str) or name not in allowed:
            raise ValidationError(f"Invalid operation {name!r}, must be {', '.join(map(repr, allowed))}",
                                  field="operation", value=name if isinstance(name, str) else operation,
                                  allowed=allowed)
        if name == "mosaic":
            if rules.canonical_axis(self.kind, axis) != ("images",):
                raise ValidationError(f"The 'mosaic' reduction is over axis 'images' only, got axis={axis!r}",
                                      field="axis", value=axis, allowed=("images",))
            return self.mosaic()
        return self._reduce(name, axis)

    @staticmethod
    def _show(image: "Image", name: str, scales: Any, colormap: str | None, checkerboard: bool, map: Any) -> Any:
        if map is None:
            from ..widgets.default_map import default_map  # noqa: PLC0415  (facade: values sit below widgets)

            map = default_map()
        return map.preview(image, name=name, scales=scales, colormap=colormap, checkerboard=checkerboard)


class Image(_Imagery):
    """A lazy raster image: bands of pixels, a mask, and properties.

    Operators (``+ - * / // % **``, comparisons, ``& | ^ ~``, ``abs``, ``-``) work
    pixel-wise with numbers and with other Images (-> Image) or ImageCollections
    (-> ImageCollection).

    Reductions (``mean``, ``median``, ``min``, ``max``, ``sum``, ``std``, ``count``) take
    ``axis``:

    * ``None`` (default) or ``("bands", "pixels")``: a Float over every pixel of every band;
    * ``"pixels"``: a Dict of band name to Float;
    * ``"bands"``: an Image of one band named after the reduction.

    A reduction over no unmasked pixel gives None; ``count`` counts unmasked pixels.
    """

    kind = "Image"
    _rank = 70

    @classmethod
    def from_id(cls, image_id: str, resampler: str | None = "near") -> "Image":
        """One catalog image, ``"<product id>:<name>"``.

        Parameters
        ----------
        image_id : str
        resampler : str, default "near"
            How pixels are warped into the GeoContext's grid: ``near``, ``bilinear``,
            ``cubic``, ``cubicspline``, ``lanczos``, ``average``, ``mode``, ``max``, ``min``,
            ``med``, ``q1``, ``q3``.

        Raises
        ------
        NotFound, PermissionDenied, ValidationError
            Unknown image or product, no read access, bad resampler.
        """
        if not isinstance(image_id, str):
            raise GraphTypeError(f"image_id must be a str, got {type(image_id).__name__} {image_id!r}")
        return cls._build("image_from_id", image_id, resampler or "near")

    def visualize(self, name: str, scales: Any = None, colormap: str | None = None, checkerboard: bool = True,
                  map: Any = None, **arguments: Any) -> Any:
        """Show this Image as a layer of ``wf.map`` (or ``map``); a layer of the same name is replaced.

        Parameters
        ----------
        name : str
            The layer's name. Visualizing again under the same name updates that layer
            (re-running a notebook cell doesn't add layers).
        scales : (min, max) or list of (min, max), optional
            Per shown band; default the 2nd and 98th percentiles of the current view.
        colormap : str, optional
            For one band (see :meth:`wf_widgets.widgets.TileMap.preview`).
        checkerboard : bool, default True
            Draw masked pixels as a grey checkerboard.
        map : TileMap, optional
            The map to show it on; default ``wf.map`` (made on first use).
        **arguments
            A value for each parameter (:func:`wf_widgets.parameter`) it depends on.

        Returns
        -------
        PreviewLayer
            The layer (see :meth:`wf_widgets.widgets.TileMap.preview`).

        Raises
        ------
        ValidationTypeError
            A keyword that names no parameter, or a parameter without a value.
        """
        image = bind(self, arguments, "visualize()")
        return self._show(image, name, scales, colormap, checkerboard, map)

    @property
    def properties(self) -> ImageProperties:
        """The image's properties (a Dict; ``properties["date"]`` is a Datetime)."""
        return ImageProperties._from_node(Node("image_properties", (self._node,)))


class ImageCollection(_Imagery):
    """A lazy stack of images with the same bands, oldest first.

    Operators work pixel-wise, image by image, with numbers, Images (applied to every
    image) and ImageCollections of the same length; the result is an ImageCollection.

    Reductions (``mean``, ``median``, ``min``, ``max``, ``sum``, ``std``, ``count``) take
    ``axis``:

    * ``"images"``: an Image (a composite: per pixel and band over the images);
    * ``"bands"``: an ImageCollection of one band named after the reduction;
    * ``"pixels"``: a List of Dict of band name to Float, one per image;
    * ``("images", "pixels")``: a Dict of band name to Float;
    * ``("bands", "pixels")``: a List of Float, one per image;
    * ``("images", "bands")``: an Image of one band;
    * ``None`` (default) or all three: a Float.

    Pixels no image covers stay masked in a composite; a reduction over no unmasked pixel
    gives None. ``count`` counts unmasked pixels.
    """

    kind = "ImageCollection"
    _rank = 80
    #: What an ImageCollection holds (what ``wf.zip`` gives for it).
    _element_type: ClassVar[type] = Image
    _REDUCTION_NAMES = rules.REDUCTIONS + ("mosaic",)

    @classmethod
    def from_id(cls, product_id: str, start_datetime: Any = None, end_datetime: Any = None,
                limit: int | None = None, resampler: str | None = "near") -> "ImageCollection":
        """The images of a catalog product that intersect the GeoContext, oldest first.

        Parameters
        ----------
        product_id : str
        start_datetime, end_datetime : str, datetime, date or wf.Datetime, optional
            Images acquired at or after the start and before the end (UTC; naive is UTC).
        limit : int, optional
            At most this many images (the oldest).
        resampler : str, default "near"
            See :meth:`Image.from_id`.

        Raises
        ------
        NotFound
            Unknown product id (the message lists the ids you may read).
        PermissionDenied
            The product is not readable by the current user.
        ValidationError
            An empty date range (start not before end), a bad limit or resampler.
        """
        if not isinstance(product_id, str):
            raise GraphTypeError(f"product_id must be a str, got {type(product_id).__name__} {product_id!r}")
        if isinstance(limit, Int):
            raise GraphTypeError("limit must be a plain int (known while the graph is built)")
        return cls._build("ic_from_id", product_id, _iso(start_datetime, "start_datetime"),
                          _iso(end_datetime, "end_datetime"), limit, resampler or "near")

    @property
    def properties(self) -> List:
        """A List with the properties Dict of every image."""
        return List[ImageProperties]._from_node(Node("image_properties", (self._node,)))

    def visualize(self, name: str, scales: Any = None, colormap: str | None = None, reduction: Any = "mosaic",
                  checkerboard: bool = True, map: Any = None, **arguments: Any) -> Any:
        """Reduce this ImageCollection to an Image over ``"images"`` and show it as a layer of ``wf.map`` (or ``map``).

        Parameters
        ----------
        name : str
            The layer's name. Visualizing again under the same name updates that layer
            (re-running a notebook cell doesn't add layers).
        scales : (min, max) or list of (min, max), optional
            Per shown band; default the 2nd and 98th percentiles of the current view.
        colormap : str, optional
            For one band (see :meth:`wf_widgets.widgets.TileMap.preview`).
        reduction : str, default "mosaic"
            How the images become one: ``"mosaic"`` (the last image on top), ``"mean"``,
            ``"median"``, ``"min"``, ``"max"``, ``"sum"``, ``"std"``, ``"count"``.
        checkerboard : bool, default True
            Draw masked pixels as a grey checkerboard.
        map : TileMap, optional
            The map to show it on; default ``wf.map`` (made on first use).
        **arguments
            A value for each parameter (:func:`wf_widgets.parameter`) it depends on.

        Returns
        -------
        PreviewLayer
            The layer (see :meth:`wf_widgets.widgets.TileMap.preview`).

        Raises
        ------
        ValidationTypeError
            A keyword that names no parameter, or a parameter without a value.
        """
        image = bind(self, arguments, "visualize()").reduction(reduction, axis="images")
        return self._show(image, name, scales, colormap, checkerboard, map)

    def mosaic(self, reverse: bool = False) -> Image:
        """One Image: each pixel from the last image where it is unmasked (the last image is on top).

        Parameters
        ----------
        reverse : bool, default False
            True puts the first image on top. (As the original client.)
        """
        return self._build("mosaic", self, bool(reverse))

    def length(self) -> Int:
        """Number of images (no pixels are read)."""
        return Int._from_node(Node("length", (self._node,)))


_CLASSES: dict[str, type[_Imagery]] = {rules.IMAGE: Image, rules.COLLECTION: ImageCollection}
TYPES.update(Image=Image, ImageCollection=ImageCollection)


def _make_reduction(name: str):
    def reduction(self: _Imagery, axis: Any = None) -> Value:
        return self._reduce(name, axis)

    reduction.__name__ = name
    reduction.__doc__ = (f"The {name} over ``axis``; see the class docstring for the result type of each axis."
                         if name != "count" else
                         "The number of unmasked pixels over ``axis``; see the class docstring for result types.")
    return reduction


for _name in rules.REDUCTIONS:
    setattr(_Imagery, _name, _make_reduction(_name))


def static_bands(value: Any, backend: BackendLike | None = None) -> list[str] | None:
    """Band names of an Image or ImageCollection value, known before computing, or None.

    Runs every static check of the graph against the catalog (see the module docstring).

    Parameters
    ----------
    value : Value
        Anything; only Image and ImageCollection have bands.
    backend : BackendLike, optional
        Whose catalog to ask (and as which user); default: the current backend
        (:func:`wf_widgets._context.current`).

    Raises
    ------
    NotFound, PermissionDenied, ValidationError
        When the graph refers to a product the backend's user can't read, or is invalid.
    """
    if not isinstance(value, _Imagery):
        return None
    info = value._static_info() if backend is None else rules.infer(value.node, _CatalogOf(backend))
    return list(info.bands) if info is not None and info.bands is not None else None


def check_graph(value: Value, backend: BackendLike | None = None) -> None:
    """Run every static check of ``value``'s graph (imagery anywhere in it) with a backend's catalog.

    What a launch does before any job exists (the checks of the module docstring); the
    catalog is opened only if the graph reads it.

    Parameters
    ----------
    value : Value
    backend : BackendLike, optional
        Whose catalog to ask (and as which user); default: the current backend.

    Raises
    ------
    NotFound, PermissionDenied, ValidationError
        The first problem found.
    """
    rules.infer(value.node, _CatalogOf(backend))


__all__ = ["BandStats", "Image", "ImageCollection", "ImageProperties", "check_graph", "static_bands"]
