"""The lazy value base class, promotion of Python values, and operator typing.

Every value wraps a :class:`~wf_widgets.values.graph.Node`. Operators build new nodes;
nothing is computed until :meth:`Value.compute`. The result type of an operator comes
from the higher-ranked operand's :meth:`Value._result_type`; ``None`` there means the
operation is not defined and a :class:`~wf_widgets.errors.GraphTypeError` is raised
while the graph is built.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import GraphTypeError, WfError
from .graph import Node, from_json, parse, to_json

#: Operator name -> symbol, for error messages.
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
    "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
    "and": "&", "or": "|", "xor": "^", "neg": "unary -", "pos": "unary +", "abs": "abs()", "invert": "~",
}
ARITHMETIC = frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "pow"})
COMPARISON = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
LOGICAL = frozenset({"and", "or", "xor"})

#: Type name -> class, filled by subclasses; used to rebuild values from JSON.
KINDS: dict[str, type["Value"]] = {}


class Value:
    """A lazy value: a graph that evaluates to a result of type :attr:`kind`.

    ``==`` builds a Bool graph rather than comparing; use ``a.id == b.id`` to compare
    graphs. Values hash by graph id.
    """

    kind: ClassVar[str] = "Any"
    _rank: ClassVar[int] = 50

    __slots__ = ("_node",)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "kind" in cls.__dict__:
            KINDS[cls.kind] = cls

    @classmethod
    def _from_node(cls, node: Node) -> "Value":
        obj = object.__new__(cls)
        obj._node = node
        return obj

    # -- graph --------------------------------------------------------------------------
    @property
    def node(self) -> Node:
        return self._node

    @property
    def id(self) -> str:
        """Content id of the graph: equal graphs have equal ids."""
        return self._node.id

    def to_json(self) -> dict:
        """The JSON-serialisable graph (see :mod:`wf_widgets.values.graph`)."""
        return to_json(self._node, self.kind)

    @staticmethod
    def from_json(graph: dict | str | bytes) -> "Value":
        """Rebuild a value from :meth:`to_json` output (or its JSON text).

        Raises
        ------
        ValidationError
            Anything wrong with the graph (see :func:`wf_widgets.values.graph.from_json`).
        """
        graph = parse(graph)
        node = from_json(graph)
        cls = KINDS.get(graph.get("kind") or "Any", KINDS["Any"])
        return cls._from_node(node)

    def __hash__(self) -> int:
        return hash(self._node.id)

    def __bool__(self) -> bool:
        raise GraphTypeError(
            f"The truth value of a lazy wf.{self.kind} is unknown until it is computed; "
            "call .compute() first, or use & | ~ instead of and/or/not"
        )

    def __repr__(self) -> str:
        return f"<wf.{self.kind} {self._node.op} {self.id[:8]}>"

    # -- typing -------------------------------------------------------------------------
    @classmethod
    def _result_type(cls, op: str, other: type["Value"] | None) -> type["Value"] | None:
        """Type of ``cls <op> other`` (``other`` None for unary ops), or None if undefined."""
        if op in ("eq", "ne") and other is not None:
            return KINDS["Bool"]
        return None

    def _unary(self, op: str) -> "Value":
        rtype = self._result_type(op, None)
        if rtype is None:
            raise GraphTypeError(f"bad operand type for {SYMBOLS[op]}: wf.{self.kind}")
        return rtype._from_node(Node(op, (self._node,)))

    def _binary(self, op: str, other: Any, reflected: bool = False) -> "Value":
        try:
            other_v = promote(other)
        except GraphTypeError:
            left, right = (type(other).__name__, f"wf.{self.kind}") if reflected else (f"wf.{self.kind}", type(other).__name__)
            raise GraphTypeError(f"unsupported operand types for {SYMBOLS[op]}: {left} and {right!s} ({other!r})") from None
        left, right = (other_v, self) if reflected else (self, other_v)
        high = left if type(left)._rank >= type(right)._rank else right
        low = right if high is left else left
        rtype = type(high)._result_type(op, type(low))
        if rtype is None:
            raise GraphTypeError(
                f"unsupported operand types for {SYMBOLS[op]}: wf.{left.kind} and wf.{right.kind}"
            )
        return rtype._from_node(Node(op, (left._node, right._node)))

    # -- operators (every subclass gets them; _result_type decides what is allowed) ---------
    def __add__(self, o): return self._binary("add", o)
    def __radd__(self, o): return self._binary("add", o, True)
    def __sub__(self, o): return self._binary("sub", o)
    def __rsub__(self, o): return self._binary("sub", o, True)
    def __mul__(self, o): return self._binary("mul", o)
    def __rmul__(self, o): return self._binary("mul", o, True)
    def __truediv__(self, o): return self._binary("truediv", o)
    def __rtruediv__(self, o): return self._binary("truediv", o, True)
    def __floordiv__(self, o): return self._binary("floordiv", o)
    def __rfloordiv__(self, o): return self._binary("floordiv", o, True)
    def __mod__(self, o): return self._binary("mod", o)
    def __rmod__(self, o): return self._binary("mod", o, True)
    def __pow__(self, o): return self._binary("pow", o)
    def __rpow__(self, o): return self._binary("pow", o, True)
    def __and__(self, o): return self._binary("and", o)
    def __rand__(self, o): return self._binary("and", o, True)
    def __or__(self, o): return self._binary("or", o)
    def __ror__(self, o): return self._binary("or", o, True)
    def __xor__(self, o): return self._binary("xor", o)
    def __rxor__(self, o): return self._binary("xor", o, True)
    def __eq__(self, o): return self._binary("eq", o)  # type: ignore[override]
    def __ne__(self, o): return self._binary("ne", o)  # type: ignore[override]
    def __lt__(self, o): return self._binary("lt", o)
    def __le__(self, o): return self._binary("le", o)
    def __gt__(self, o): return self._binary("gt", o)
    def __ge__(self, o): return self._binary("ge", o)
    def __neg__(self): return self._unary("neg")
    def __pos__(self): return self._unary("pos")
    def __abs__(self): return self._unary("abs")
    def __invert__(self): return self._unary("invert")

    # -- computing ----------------------------------------------------------------------
    def compute(self, geoctx: Any = None, format: Any = "pyarrow", destination: Any = "download", file: Any = None,
                timeout: float | None = None, block: bool = True, progress_bar: Any = None, **kwargs: Any) -> Any:
        """Compute this value and deliver it to ``destination`` in ``format``.

        See :func:`wf_widgets.compute` for the parameters and what is returned. Its errors
        (:class:`~wf_widgets.errors.WfError`: a bad format or destination, a failed job) are
        raised from this call, without the package's internal frames.
        """
        from ..jobs.compute import compute  # noqa: PLC0415  (facade: values sit below jobs)

        try:
            return compute(self, geoctx=geoctx, format=format, destination=destination, file=file,
                           timeout=timeout, block=block, progress_bar=progress_bar, **kwargs)
        except WfError as exc:  # the user's mistake, told from the call they made: the message, not our frames
            raise exc.with_traceback(None) from None


class Any_(Value):
    """A value whose type is only known once computed (e.g. an item of a mixed List).

    Every operator is allowed; type errors surface when the job runs (code TYPING).
    """

    kind = "Any"
    _rank = 90  # decides the result type against scalars and containers

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is not None and other._rank > cls._rank:
            return None
        return Any_

    def __getitem__(self, key: Any) -> "Any_":
        return Any_._from_node(Node("getitem", (self._node, promote(key)._node)))

    def length(self) -> "Value":
        return KINDS["Int"]._from_node(Node("length", (self._node,)))


_PROMOTERS: list = []


def register_promoter(fn) -> Any:
    """Register ``fn(obj) -> Value | None`` used by :func:`promote` for plain Python objects."""
    _PROMOTERS.append(fn)
    return fn


def promote(obj: Any) -> Value:
    """Turn a plain Python value into a lazy value (a Value is returned as is).

    Raises
    ------
    GraphTypeError
        If no value type accepts ``obj``.
    """
    if isinstance(obj, Value):
        return obj
    for fn in _PROMOTERS:
        value = fn(obj)
        if value is not None:
            return value
    raise GraphTypeError(f"Cannot use a {type(obj).__name__} ({obj!r}) in a wf graph")
