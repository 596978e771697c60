"""The lazy value base class, promotion of Python values, operator typing, generic types, parameters.

Every value wraps a :class:`~wf_widgets.values.graph.Node`. Operators build new nodes;
nothing is computed until :meth:`Value.compute`.

Operator typing: ``a <op> b`` is decided by the operand whose type has the higher
``_rank`` (containers and imagery above scalars, :class:`Any_` above all): the other
operand's ``_binary`` hands over to it. Its :meth:`Value._result_type` gives the result
type; ``None`` there means the operation is not defined, and a
:class:`~wf_widgets.errors.GraphTypeError` (a ``TypeError``) is raised while the graph is
built. Types whose rules depend on more than the two classes (containers, which check
their element types; ``Bool & Int``, which is logical) override ``_binary``.

Generic types: ``wf.List[wf.Int]``, ``wf.Dict[wf.Str, wf.Float]``, ``wf.Tuple[wf.Int, wf.Str]``
are classes made on first use and cached (``wf.List[wf.Int] is wf.List[wf.Int]``), so
``isinstance(x, wf.List[wf.Int])`` works.

Parameters: :func:`parameter` makes a value of a given type that stands for an argument
given later, to ``compute(name=value)``. A parameter is a ``parameter`` node carrying its
name and type name; :attr:`Value.params` lists those a graph depends on, and
:func:`bind` replaces them by the arguments' graphs (so the graph a job stores is
complete: the arguments are bound at launch).
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar, Iterable

from .._context import BackendLike
from ..errors import GraphTypeError, TypeParametersError, ValidationError, ValidationTypeError, WfError
from .graph import Node, from_json, parse, to_json

#: Operator name -> symbol, for error messages.
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
    "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
    "and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>", "divmod": "divmod()",
    "neg": "unary -", "pos": "unary +", "abs": "abs()", "invert": "~",
}
ARITHMETIC = frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "pow"})
COMPARISON = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
LOGICAL = frozenset({"and", "or", "xor"})
SHIFTS = frozenset({"lshift", "rshift"})

#: Kind name -> class, filled by subclasses; used to rebuild values from JSON.
KINDS: dict[str, type["Value"]] = {}
#: Class name -> the value classes a type name may use (``"Int"``, ``"List"``, ...): the
#: allow-list of :func:`type_from_name`, and how modules below reach the ones above them
#: (a divmod gives a ``Tuple``, ``Str.split`` a ``List``).
TYPES: dict[str, type] = {}

#: The keywords of ``compute()`` itself: no parameter may take one of these names.
COMPUTE_KEYWORDS = ("geoctx", "format", "destination", "file", "timeout", "block", "progress_bar", "backend")


def type_name(cls: Any) -> str:
    """How error messages and type names show ``cls`` (``"Int"``, ``"List[Int]"``)."""
    return cls.__name__ if isinstance(cls, type) else repr(cls)


class Value:
    """A lazy value: a graph that evaluates to a result of type :attr:`kind`.

    ``==`` builds a Bool graph rather than comparing; use ``a.id == b.id`` to compare
    graphs. Values hash by graph id.
    """

    kind: ClassVar[str] = "Any"
    _rank: ClassVar[int] = 50

    __slots__ = ("_node", "_params")

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

    @property
    def literal_value(self) -> Any:
        """The Python value this was made from, if it is a plain literal (``wf.Int(1)``), else None."""
        return self._node.args[0] if self._node.op == "lit" else None

    @property
    def params(self) -> tuple["Value", ...]:
        """The parameters (:func:`parameter`) this value depends on, in order of first use."""
        try:
            cached = self._params
        except AttributeError:
            cached = None
        if cached is None:
            cached = self._params = _collect_params(self._node)
        return cached

    def to_json(self) -> dict:
        """The JSON-serialisable graph (see :mod:`wf_widgets.values.graph`)."""
        cls = type(self)
        parametrised = isinstance(cls, GenericMeta) and cls._type_params is not None
        return to_json(self._node, self.kind, _spec_name(cls) if parametrised else None)

    @staticmethod
    def from_json(graph: dict | str | bytes) -> "Value":
        """Rebuild a value from :meth:`to_json` output (or its JSON text).

        A parametrised container comes back with its type (the graph's ``"type"``); a graph
        without one as its kind (a ``"List"`` as ``wf.List[wf.Any]``).

        Raises
        ------
        ValidationError
            Anything wrong with the graph (see :func:`wf_widgets.values.graph.from_json`),
            or a ``"type"`` that is not a type of its ``"kind"``.
        """
        graph = parse(graph)
        node = from_json(graph)
        cls = KINDS.get(graph.get("kind") or "Any", KINDS["Any"])
        if graph.get("type") is not None:
            typed = type_from_name(graph["type"])
            if typed.kind != cls.kind:
                raise ValidationError(f"A graph's type {graph['type']!r} is not of its kind {graph.get('kind')!r}",
                                      field="graph", value=graph["type"])
            cls = typed
        return cls._from_node(node)

    def _cast(self, cls: type["Value"]) -> "Value":
        """This graph as a value of type ``cls``, unchecked (the result must be a ``cls`` when computed)."""
        return cls._from_node(self._node)

    def __hash__(self) -> int:
        return hash(self._node.id)

    def __bool__(self) -> bool:
        raise GraphTypeError(
            f"wf.{type_name(type(self))} objects cannot be used in conditionals: the truth value of a lazy "
            f"wf.{type_name(type(self))} is unknown until it is computed. Call .compute() first, use & | ~ "
            "instead of and/or/not, and x.contains(y) instead of `y in x`"
        )

    def __len__(self) -> int:
        if callable(getattr(type(self), "length", None)):
            raise GraphTypeError(f"Please use wf.{type_name(type(self))}.length(): Python requires an int from len(), "
                                 "and a lazy value's length is unknown until it is computed")
        raise GraphTypeError(f"object of type wf.{type_name(type(self))} has no len()")

    def __contains__(self, item: Any) -> bool:
        if callable(getattr(type(self), "contains", None)):
            raise GraphTypeError(f"Please use wf.{type_name(type(self))}.contains(other): Python requires a bool from "
                                 "`in`, and a lazy value's answer is unknown until it is computed")
        raise GraphTypeError(f"object of type wf.{type_name(type(self))} does not support `in`")

    def __iter__(self):
        raise GraphTypeError(f"object of type wf.{type_name(type(self))} is not iterable")

    def __repr__(self) -> str:
        return f"<wf.{type_name(type(self))} {self._node.op} {self.id[:8]}>"

    # -- typing -------------------------------------------------------------------------
    @classmethod
    def _result_type(cls, op: str, other: type["Value"] | None) -> type["Value"] | None:
        """Type of ``cls <op> other`` (``other`` None for unary ops; ``cls`` has the higher rank),
        or None if undefined."""
        return None

    @classmethod
    def _promote(cls, obj: Any) -> "Value":
        """``obj`` as a ``cls`` (a ``cls`` as it is, an ``Any`` cast, a Python value converted).

        Raises
        ------
        GraphTypeError
            ``obj`` can't be one (another value type is never converted implicitly).
        """
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Any_):
            return obj.cast(cls)
        if isinstance(obj, Value):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(obj))} to {type_name(cls)}")
        try:
            return cls(obj)
        except GraphTypeError as exc:
            raise GraphTypeError(f"Cannot promote {obj!r} to {type_name(cls)}: {exc}") from None

    def _unsupported(self, op: str, other: Any, reflected: bool) -> GraphTypeError:
        mine = f"wf.{type_name(type(self))}"
        theirs = f"wf.{type_name(type(other))}" if isinstance(other, Value) else type(other).__name__
        left, right = (theirs, mine) if reflected else (mine, theirs)
        shown = "" if isinstance(other, Value) else f" ({other!r})"
        return GraphTypeError(f"unsupported operand types for {SYMBOLS[op]}: {left} and {right}{shown}")

    def _unary(self, op: str) -> "Value":
        rtype = self._result_type(op, None)
        if rtype is None:
            raise GraphTypeError(f"bad operand type for {SYMBOLS[op]}: wf.{type_name(type(self))}")
        return rtype._from_node(Node(op, (self._node,)))

    def _binary(self, op: str, other: Any, reflected: bool = False) -> "Value":
        """``self <op> other`` (``other <op> self`` if ``reflected``); the higher-ranked operand decides.

        A value of a higher-ranked type whose ``_result_type`` doesn't type the operation with
        this one gets NotImplemented, so that Python asks it (``Int(1) * wf.List[...]`` is the
        List's ``__rmul__``); a plain Python value is promoted and, if its type ranks higher,
        asked here.
        """
        if not isinstance(other, Value):
            try:
                other = promote(other)
            except GraphTypeError:
                raise self._unsupported(op, other, reflected) from None
            if type(other)._rank > type(self)._rank:
                return other._binary(op, self, not reflected)
        elif type(other)._rank > type(self)._rank:
            if type(other)._result_type(op, type(self)) is None:
                return NotImplemented
            return other._binary(op, self, not reflected)
        rtype = type(self)._result_type(op, type(other))
        if rtype is None:
            raise self._unsupported(op, other, reflected)
        left, right = (other, self) if reflected else (self, other)
        return rtype._from_node(Node(op, (left._node, right._node)))

    # -- operators (every subclass gets them; _binary/_result_type decide what is allowed) -----
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
    def __divmod__(self, o): return self._binary("divmod", o)
    def __rdivmod__(self, o): return self._binary("divmod", o, True)
    def __and__(self, o): return self._binary("and", o)
    def __rand__(self, o): return self._binary("and", o, True)
    def __or__(self, o): return self._binary("or", o)
    def __ror__(self, o): return self._binary("or", o, True)
    def __xor__(self, o): return self._binary("xor", o)
    def __rxor__(self, o): return self._binary("xor", o, True)
    def __lshift__(self, o): return self._binary("lshift", o)
    def __rlshift__(self, o): return self._binary("lshift", o, True)
    def __rshift__(self, o): return self._binary("rshift", o)
    def __rrshift__(self, o): return self._binary("rshift", o, True)
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
    def _for_compute(self) -> "Value":
        """The value a job computes for this one (see :meth:`_unmarshal`)."""
        return self

    def _unmarshal(self, result: Any) -> Any:
        """What ``compute()`` returns for the decoded result of :meth:`_for_compute` (a Tuple gives a tuple)."""
        return result

    def compute(self, geoctx: Any = None, format: Any = "pyarrow", destination: Any = "download", file: Any = None,
                timeout: float | None = None, block: bool = True, progress_bar: Any = None, backend: BackendLike | None = None,
                **arguments: Any) -> Any:
        """Compute this value and deliver it to ``destination`` in ``format``.

        See :func:`wf_widgets.compute` for the parameters and what is returned. Its errors
        (:class:`~wf_widgets.errors.WfError`: a bad format or destination, a failed job) are
        raised from this call, without the package's internal frames.

        Parameters
        ----------
        **arguments
            A value for each parameter the graph depends on (:func:`parameter`), by name;
            bound into the graph before the job is made; also ``cache``, ``notify`` and
            ``retries`` of :func:`wf_widgets.compute`. Any other keyword is a TypeError.
        """
        from ..jobs.compute import compute  # noqa: PLC0415  (facade: values sit below jobs)

        try:
            return compute(self, geoctx=geoctx, format=format, destination=destination, file=file, timeout=timeout,
                           block=block, progress_bar=progress_bar, backend=backend, **arguments)
        except WfError as exc:  # the user's mistake, told from the call they made: the message, not our frames
            raise exc.with_traceback(None) from None


class Any_(Value):
    """A value whose type is only known once computed (an item of a mixed List, an image property).

    Every operator is allowed (comparisons give a Bool, ``divmod`` a ``Tuple[Any, Any]``,
    the rest an Any); type errors surface when the job runs (code TYPING). Convert it with
    :meth:`cast` when you know the type. Attribute access (``x.foo``) reads key ``"foo"``
    of a dict-like value.
    """

    kind = "Any"
    _rank = 90  # decides the result type against every other type

    def __new__(cls, value: Any) -> "Any_":
        return cls._from_node(promote(value)._node)

    @classmethod
    def _promote(cls, obj: Any) -> "Any_":
        """Any value is an Any (a Python value is promoted first)."""
        return obj._cast(cls) if isinstance(obj, Value) else cls(obj)

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        if not isinstance(other, Value):
            try:
                other = promote(other)
            except GraphTypeError:
                raise self._unsupported(op, other, reflected) from None
        if op in COMPARISON:
            rtype: type[Value] = KINDS["Bool"]
        elif op == "divmod":
            rtype = TYPES["Tuple"][Any_, Any_]
        else:
            rtype = Any_
        left, right = (other, self) if reflected else (self, other)
        return rtype._from_node(Node(op, (left._node, right._node)))

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        return Any_ if other is None else None

    def cast(self, cls: type[Value]) -> Value:
        """This value as a ``cls`` (unchecked: it must be one when computed).

        Raises
        ------
        TypeParametersError
            ``cls`` is a generic type without its type parameters (``wf.List``, not ``wf.List[wf.Int]``).
        """
        if not (isinstance(cls, type) and issubclass(cls, Value)):
            raise GraphTypeError(f"Any.cast needs a wf value type (like wf.Int), got {cls!r}")
        return cls._from_node(self._node)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise GraphTypeError("'Any' is not a callable type. Try casting it to the type it should be via `.cast`.")

    def __iter__(self):
        raise GraphTypeError("Any object is not iterable")

    def __getattr__(self, name: str) -> "Any_":
        if name.startswith("_"):
            raise AttributeError(f"'Any' object has no attribute {name!r}. Perhaps you need to change it to the "
                                 "correct type via `.cast`?")
        return Any_._from_node(Node("attr", (self._node, name)))

    def __getitem__(self, key: Any) -> "Any_":
        return Any_._from_node(Node("getitem", (self._node, promote(key)._node)))

    def __reversed__(self) -> "Any_":
        return Any_._from_node(Node("reversed", (self._node,)))

    def contains(self, other: Any) -> Value:
        """Whether ``other`` is in this value (Python's ``in``), a Bool."""
        return KINDS["Bool"]._from_node(Node("contains", (self._node, promote(other)._node)))

    def length(self) -> Value:
        """The length of this value (Python's ``len``), an Int."""
        return KINDS["Int"]._from_node(Node("length", (self._node,)))


Any_.__name__ = Any_.__qualname__ = "Any"
TYPES["Any"] = Any_


# -- generic types ---------------------------------------------------------------------------
def _hashable(params: tuple) -> tuple:
    return tuple(tuple(p.items()) if isinstance(p, dict) else p for p in params)


def _param_name(p: Any) -> str:
    if isinstance(p, dict):
        return "{" + ", ".join(f"{k!r}: {_param_name(v)}" for k, v in p.items()) + "}"
    return type_name(p)


def is_value_type(obj: Any) -> bool:
    """Whether ``obj`` is a wf value class (``wf.Int``, ``wf.List[wf.Str]``; also a generic ``wf.List``)."""
    return isinstance(obj, type) and issubclass(obj, Value)


def is_generic(cls: Any) -> bool:
    """Whether ``cls`` is a generic type still missing its type parameters (``wf.List``), or has one inside."""
    if isinstance(cls, dict):
        return any(is_generic(v) for v in cls.values())
    if not isinstance(cls, GenericMeta):
        return False
    params = cls._type_params
    return params is None or any(is_generic(p) for p in params)


def check_value_type(obj: Any, message: str) -> None:
    """Raise GraphTypeError(``message``) unless ``obj`` is a wf value class."""
    if not is_value_type(obj):
        raise GraphTypeError(message)


class GenericMeta(type):
    """Metaclass of the generic value types: ``List[Int]`` makes (once) and returns a subclass of ``List``."""

    def __getitem__(cls, params: Any) -> type:
        return cls._parametrize(params)


class Generic(Value, metaclass=GenericMeta):
    """A value type with type parameters (``List[Int]``); the generic class itself can't make values.

    Subclasses define ``_validate_params(params)`` (raise :class:`~wf_widgets.errors.GraphTypeError`
    or :class:`~wf_widgets.errors.TypeParametersError`), and may extend ``_namespace(params)``
    (the class body of a parametrised class).
    """

    _type_params: ClassVar[tuple | None] = None
    _generic: ClassVar[type | None] = None
    _lock = threading.RLock()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "_type_params" not in cls.__dict__:
            cls._concrete = {}

    @classmethod
    def _parametrize(cls, params: Any) -> type:
        if cls._type_params is not None:
            raise GraphTypeError(f"{type_name(cls)} type is not subscriptable (it's no longer generic and already "
                                 "has type parameters applied)")
        params = params if isinstance(params, tuple) else (params,)
        for p in params:
            if not (is_value_type(p) or isinstance(p, (dict, int, float, bool, str))):
                raise GraphTypeError("Type parameters must be Proxytypes (wf value types like wf.Int), Python "
                                     f"primitive values, or dicts of those, but got {p!r}")
        key = _hashable(params)
        with cls._lock:
            found = cls._concrete.get(key)
            if found is not None:
                return found
            cls._validate_params(params)
            name = f"{cls.__name__}[{', '.join(_param_name(p) for p in params)}]"
            namespace = {"_type_params": params, "_generic": cls, "__module__": cls.__module__, "__qualname__": name}
            namespace.update(cls._namespace(params))
            concrete = type(cls)(name, (cls,), namespace)
            cls._concrete[key] = concrete
            return concrete

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        for i, p in enumerate(params):
            check_value_type(p, f"{cls.__name__} type parameters must be Proxytypes (wf value types) but for "
                                f"parameter {i}, got {p!r}")

    @classmethod
    def _namespace(cls, params: tuple) -> dict:
        return {}

    @classmethod
    def _from_node(cls, node: Node) -> Value:
        if cls._type_params is None:
            raise TypeParametersError(f"Cannot instantiate a generic {cls.__name__}; give its type parameters, "
                                      f"like wf.{cls.__name__}[...]")
        return super()._from_node(node)

    @classmethod
    def _generic_error(cls, example: str) -> TypeParametersError:
        return TypeParametersError(f"Cannot instantiate a generic {cls.__name__}; the type parameters must be "
                                   f"provided (like `{example}`)")


# -- type names ------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<punct>[\[\],{}:]))")
#: Longest type name accepted, in characters.
MAX_TYPE_NAME = 2000


def type_from_name(name: Any) -> type[Value]:
    """The value type named ``name`` (``"Int"``, ``"List[Tuple[Str, Int]]"``, ``"Struct[{'a': Int}]"``).

    Only the classes of :data:`TYPES` are known; nothing is looked up by attribute.

    Raises
    ------
    ValidationError
        Not a type name of that grammar, an unknown class name or bad type parameters.
    """
    if not isinstance(name, str) or len(name) > MAX_TYPE_NAME:
        raise ValidationError(f"A type name is a str of at most {MAX_TYPE_NAME} characters, got {name!r}"[:300],
                              field="type", value=name if isinstance(name, str) else type(name).__name__)
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(name):
        m = _TOKEN.match(name, pos)
        if m is None or m.end() == pos:
            if name[pos:].strip() == "":
                break
            raise ValidationError(f"Bad type name {name!r} at character {pos}", field="type", value=name)
        kind = m.lastgroup or "punct"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    parser = _TypeParser(name, tokens)
    result = parser.type(0)
    if parser.i != len(tokens):
        raise ValidationError(f"Bad type name {name!r}: unexpected {tokens[parser.i][1]!r}", field="type", value=name)
    return result


class _TypeParser:
    def __init__(self, text: str, tokens: list[tuple[str, str]]):
        self.text, self.tokens, self.i = text, tokens, 0

    def _fail(self, what: str) -> ValidationError:
        return ValidationError(f"Bad type name {self.text!r}: {what}", field="type", value=self.text)

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise self._fail("it ends too early")
        tok = self.tokens[self.i]
        if expected is not None and tok[1] != expected:
            raise self._fail(f"expected {expected!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def type(self, depth: int) -> Any:
        if depth > 32:
            raise self._fail("nested too deeply")
        kind, text = self._take()
        if kind != "name":
            raise self._fail(f"expected a type name, got {text!r}")
        cls = TYPES.get(text)
        if cls is None:
            raise ValidationError.bad_value("type", text, sorted(TYPES), what="type name")
        if self._peek() != "[":
            return cls
        self._take("[")
        params: list[Any] = []
        while self._peek() != "]":
            params.append(self.dict(depth + 1) if self._peek() == "{" else self.type(depth + 1))
            if self._peek() == ",":
                self._take(",")
            elif self._peek() != "]":
                raise self._fail(f"expected ',' or ']', got {self._peek()!r}")
        self._take("]")
        if not isinstance(cls, GenericMeta) or cls._type_params is not None:
            raise self._fail(f"{text} takes no type parameters")
        try:
            return cls[tuple(params)]
        except GraphTypeError as exc:
            raise self._fail(str(exc)) from None

    def dict(self, depth: int) -> dict:
        self._take("{")
        out: dict[str, Any] = {}
        while self._peek() != "}":
            kind, text = self._take()
            if kind != "str":
                raise self._fail(f"expected a quoted field name, got {text!r}")
            self._take(":")
            out[text[1:-1]] = self.type(depth + 1)
            if self._peek() == ",":
                self._take(",")
            elif self._peek() != "}":
                raise self._fail(f"expected ',' or '}}', got {self._peek()!r}")
        self._take("}")
        return out


def check_type_name(value: Any, field: str) -> None:
    """A literal check: ``value`` names a value type (:func:`type_from_name`)."""
    try:
        type_from_name(value)
    except ValidationError as exc:
        raise ValidationError(str(exc), field=field, value=value) from None


def _spec_name(cls: type[Value]) -> str:
    """A name :func:`type_from_name` reads back as ``cls`` or its nearest known base class."""
    for klass in cls.__mro__:
        if not is_value_type(klass) or is_generic(klass):
            continue
        try:
            type_from_name(klass.__name__)
        except ValidationError:
            continue
        return klass.__name__
    return "Any"


# -- parameters -------------------------------------------------------------------------------
#: Parameter node id -> the value :func:`parameter` made for it (the latest one).
_PARAMETERS: dict[str, Value] = {}


def check_parameter_name(name: Any, field: str = "name") -> None:
    """A parameter name: a Python identifier not starting with ``_`` and not a keyword of ``compute()``."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or name in COMPUTE_KEYWORDS:
        raise ValidationError(
            f"A parameter name must be a Python identifier that doesn't start with '_' and isn't one of "
            f"compute()'s keywords ({', '.join(COMPUTE_KEYWORDS)}); got {name!r}", field=field, value=name)


def parameter(name: str, type_: type[Value]) -> Value:
    """A value of type ``type_`` standing for an argument given when computing.

    Parameters
    ----------
    name : str
        The keyword that gives its value: ``value.compute(name=...)``,
        ``image.visualize(..., name=...)``.
    type_ : value type
        Its type (a parametrised one for containers: ``wf.List[wf.Int]``, not ``wf.List``).

    Raises
    ------
    ValidationError
        A bad name, or a generic type.

    Examples
    --------
    >>> x = wf.parameter("x", wf.Int)
    >>> (x + 1).compute(x=41)  # doctest: +SKIP
    42
    """
    check_parameter_name(name)
    if not is_value_type(type_):
        raise ValidationTypeError(f"The type of parameter {name!r} must be a wf value type (like wf.Int), got "
                                  f"{type_!r}", field="type", value=type_)
    if is_generic(type_):
        raise ValidationError("Parameter type cannot be generic, must be concrete (like List[Int], not plain List)",
                              field="type", value=type_name(type_))
    obj = type_._from_node(Node("parameter", (name, _spec_name(type_))))
    obj._name = name
    _PARAMETERS[obj._node.id] = obj
    return obj


def _parameter_of(node: Node) -> Value:
    found = _PARAMETERS.get(node.id)
    if found is None:  # a graph loaded from JSON: a parameter of the type its name says
        found = type_from_name(node.args[1])._from_node(node)
        found._name = node.args[0]
        _PARAMETERS[node.id] = found
    return found


def _collect_params(root: Node) -> tuple[Value, ...]:
    """The parameters below ``root``: depth first, left to right, each once."""
    found: dict[str, Value] = {}
    seen: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if node.op == "parameter":
            param = _parameter_of(node)
            name = node.args[0]
            other = found.get(name)
            if other is not None and other._node.id != node.id:
                raise ValidationError(
                    f"The graph uses two different parameters named {name!r} ({type_name(type(other))} and "
                    f"{type_name(type(param))}); give them different names", field="parameters", value=name)
            found[name] = param
            continue
        stack.extend(reversed(list(node.children())))
    return tuple(found.values())


def substitute(root: Node, replace: dict[str, Node]) -> Node:
    """The graph ``root`` with the nodes whose ids are keys of ``replace`` replaced."""
    if not replace:
        return root
    new: dict[str, Node] = {}
    for node in root.walk():
        if node.id in replace:
            new[node.id] = replace[node.id]
            continue
        args = tuple(new[a.id] if isinstance(a, Node) else a for a in node.args)
        kwargs = {k: new[v.id] if isinstance(v, Node) else v for k, v in node.kwargs.items()}
        changed = any(a is not b for a, b in zip(args, node.args)) or any(
            kwargs[k] is not v for k, v in node.kwargs.items())
        new[node.id] = Node(node.op, args, kwargs) if changed else node
    return new[root.id]


def bind(value: Value, arguments: dict[str, Any], where: str = "compute()") -> Value:
    """``value`` with its parameters replaced by ``arguments`` (name -> value): the graph a job computes.

    Raises
    ------
    ValidationTypeError
        A keyword that names no parameter of the graph (a typo is never swallowed), or a
        parameter without an argument.
    GraphTypeError
        An argument that isn't of its parameter's type, or depends on parameters itself.
    """
    params = value.params
    names = {p._name: p for p in params}
    unknown = [k for k in arguments if k not in names]
    if unknown:
        if names:
            have = f"the graph's parameters are {', '.join(map(repr, names))}"
        else:
            have = "the graph has no parameters (wf.parameter)"
        raise ValidationTypeError(
            f"{where} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}: {have}; "
            f"the keywords of compute() are {', '.join(COMPUTE_KEYWORDS)}", field=unknown[0],
            value=arguments[unknown[0]], allowed=tuple(names))
    missing = [n for n in names if n not in arguments]
    if missing:
        raise ValidationTypeError(
            f"{where} is missing a value for the graph's parameter(s) {', '.join(map(repr, missing))}: pass "
            f"{', '.join(f'{n}=...' for n in missing)}", field=missing[0], value=None, allowed=tuple(names))
    replace: dict[str, Node] = {}
    for name, param in names.items():
        try:
            arg = type(param)._promote(arguments[name])
        except GraphTypeError as exc:
            raise GraphTypeError(f"The argument for parameter {name!r} must be a {type_name(type(param))}: {exc}") \
                from None
        if arg.params:
            raise GraphTypeError(f"The argument for parameter {name!r} depends on parameters itself "
                                 f"({', '.join(p._name for p in arg.params)}); give a value")
        replace[param._node.id] = arg._node
    if not replace:
        return value
    return type(value)._from_node(substitute(value._node, replace))


# -- promotion of Python values ----------------------------------------------------------------
_PROMOTERS: list = []


def register_promoter(fn) -> Any:
    """Register ``fn(obj) -> Value | None`` used by :func:`promote` for plain Python objects."""
    _PROMOTERS.append(fn)
    return fn


def promote(obj: Any) -> Value:
    """Turn a plain Python value into a lazy value (a Value is returned as is).

    Container types are inferred: ``[1, 2]`` is a ``List[Int]``, ``(1, "a")`` a
    ``Tuple[Int, Str]``, ``{"a": 1.5}`` a ``Dict[Str, Float]``; mixed items are ``Any``.

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


def common_type(types: Iterable[type[Value]]) -> type[Value]:
    """The type of items of these types: the one type they share, Float for Ints and Floats, else Any."""
    kinds = set(types)
    if len(kinds) == 1:
        return kinds.pop()
    if kinds and kinds <= {TYPES.get("Int"), TYPES.get("Float")}:
        return TYPES["Float"]
    return Any_
