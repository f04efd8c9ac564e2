"""A small model of Go's type system: just enough reflection for text/template.

Go templates observe types: error messages name them ("can't evaluate field X in
type template.Alert"), function arguments must be assignable to parameter types,
`printf "%T"` prints them, and methods are found by name. Values are Python objects:

* unnamed basic types are native: `str` (string), `bool`, `int` (Go's int),
  `float` (float64), `complex` (complex128);
* every other value carries its Go type in a `gotype` attribute: named scalar types
  are subclasses of `str`/`int` (`HTML`, `Duration`, `Int64`…), slices are `Slice`
  (a `list`), maps are `Map` (a `dict`), structs subclass `Struct`, pointers are `Ptr`;
* `None` is Go's invalid `reflect.Value` (what an unset variable or a missing value is);
* `Nil(t)` is the nil value of a pointer/func/interface type `t`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any


class Kind(enum.IntEnum):
    INVALID = 0
    BOOL = 1
    INT = 2
    INT8 = 3
    INT16 = 4
    INT32 = 5
    INT64 = 6
    UINT = 7
    UINT8 = 8
    UINT16 = 9
    UINT32 = 10
    UINT64 = 11
    UINTPTR = 12
    FLOAT32 = 13
    FLOAT64 = 14
    COMPLEX64 = 15
    COMPLEX128 = 16
    ARRAY = 17
    CHAN = 18
    FUNC = 19
    INTERFACE = 20
    MAP = 21
    POINTER = 22
    SLICE = 23
    STRING = 24
    STRUCT = 25


INT_KINDS = frozenset({Kind.INT, Kind.INT8, Kind.INT16, Kind.INT32, Kind.INT64})
UINT_KINDS = frozenset({Kind.UINT, Kind.UINT8, Kind.UINT16, Kind.UINT32, Kind.UINT64, Kind.UINTPTR})
FLOAT_KINDS = frozenset({Kind.FLOAT32, Kind.FLOAT64})
COMPLEX_KINDS = frozenset({Kind.COMPLEX64, Kind.COMPLEX128})
NILLABLE_KINDS = frozenset({Kind.CHAN, Kind.FUNC, Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE})


class GoFunc:
    """A callable Go function or method as templates see it: a signature and a Python implementation.

    `impl` receives already-converted arguments (the receiver first for methods) and
    returns the single result; a function whose Go signature has a second `error`
    result raises `GoCallError` to return a non-nil error.
    """

    __slots__ = ("name", "params", "variadic", "results", "impl", "builtin")

    def __init__(
        self,
        name: str,
        params: Sequence[GoType],
        result: GoType | None,
        impl: Callable[..., Any],
        *,
        variadic: bool = False,
        returns_error: bool = False,
        results: int | None = None,
        builtin: bool = False,
    ) -> None:
        self.name = name
        self.params = tuple(params)
        self.variadic = variadic
        # (result type, returns_error) — or a bare count for signatures templates cannot call.
        if results is None:
            results = (1 if result is not None else 0) + (1 if returns_error else 0)
        self.results = (result, returns_error, results)
        self.impl = impl
        self.builtin = builtin

    @property
    def num_out(self) -> int:
        return self.results[2]

    @property
    def good(self) -> bool:
        """Go's goodFunc: one result, or two where the second is an error."""
        result, returns_error, count = self.results
        return count == 1 or (count == 2 and returns_error)


class GoCallError(Exception):
    """The error result of a Go function; its text is the Go error's Error()."""


class GoType:
    __slots__ = ("kind", "name", "elem", "key", "fields", "methods", "underlying", "_text", "field_index", "json_names")

    def __init__(
        self,
        kind: Kind,
        name: str | None = None,
        *,
        elem: GoType | None = None,
        key: GoType | None = None,
        fields: Sequence[tuple[str, GoType]] = (),
        underlying: GoType | None = None,
        json_names: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.name = name
        self.elem = elem
        self.key = key
        self.fields = tuple(fields)
        # The struct's `json:"…"` tag names, field by field (the Go field names when it has none).
        self.json_names = tuple(json_names) or tuple(fname for fname, _ in self.fields)
        self.field_index = {fname: i for i, (fname, _) in enumerate(self.fields)}
        self.methods: dict[str, GoFunc] = {}
        self.underlying = underlying if underlying is not None else (None if name else self)
        self._text = name if name is not None else self._structural()

    def _structural(self) -> str:
        k = self.kind
        if k == Kind.SLICE:
            return f"[]{self.elem}"
        if k == Kind.MAP:
            return f"map[{self.key}]{self.elem}"
        if k == Kind.POINTER:
            return f"*{self.elem}"
        if k == Kind.INTERFACE:
            return "interface {}"
        if k == Kind.FUNC:
            return "func()"
        if k == Kind.STRUCT:
            inner = "; ".join(f"{n} {t}" for n, t in self.fields)
            return f"struct {{ {inner} }}" if inner else "struct {}"
        return k.name.lower()

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"GoType({self._text})"

    def method(self, name: str) -> GoFunc | None:
        return self.methods.get(name)

    @property
    def named(self) -> bool:
        """A defined type (predeclared ones like `string` included), as opposed to a type literal."""
        return self.name is not None

    @property
    def comparable(self) -> bool:
        if self.kind in (Kind.SLICE, Kind.MAP, Kind.FUNC):
            return False
        if self.kind == Kind.STRUCT:
            return all(t.comparable for _, t in self.fields)
        return True


def _basic(kind: Kind, name: str) -> GoType:
    t = GoType(kind, name)
    t.underlying = t
    return t


T_BOOL = _basic(Kind.BOOL, "bool")
T_INT = _basic(Kind.INT, "int")
T_INT8 = _basic(Kind.INT8, "int8")
T_INT16 = _basic(Kind.INT16, "int16")
T_INT32 = _basic(Kind.INT32, "int32")
T_INT64 = _basic(Kind.INT64, "int64")
T_UINT = _basic(Kind.UINT, "uint")
T_UINT8 = _basic(Kind.UINT8, "uint8")
T_UINT16 = _basic(Kind.UINT16, "uint16")
T_UINT32 = _basic(Kind.UINT32, "uint32")
T_UINT64 = _basic(Kind.UINT64, "uint64")
T_UINTPTR = _basic(Kind.UINTPTR, "uintptr")
T_FLOAT32 = _basic(Kind.FLOAT32, "float32")
T_FLOAT64 = _basic(Kind.FLOAT64, "float64")
T_COMPLEX128 = _basic(Kind.COMPLEX128, "complex128")
T_STRING = _basic(Kind.STRING, "string")
T_EMPTY_INTERFACE = GoType(Kind.INTERFACE)
# reflect.Value as a parameter type: builtins such as eq and index take any value unconverted.
T_REFLECT_VALUE = GoType(Kind.STRUCT, "reflect.Value")
T_REFLECT_VALUE.underlying = T_REFLECT_VALUE
T_ERROR = GoType(Kind.INTERFACE, "error")
T_ERROR.underlying = T_EMPTY_INTERFACE

_composite_cache: dict[tuple[Any, ...], GoType] = {}


def slice_of(elem: GoType) -> GoType:
    key = ("slice", elem)
    t = _composite_cache.get(key)
    if t is None:
        t = _composite_cache[key] = GoType(Kind.SLICE, elem=elem)
    return t


def map_of(key_type: GoType, elem: GoType) -> GoType:
    key = ("map", key_type, elem)
    t = _composite_cache.get(key)
    if t is None:
        t = _composite_cache[key] = GoType(Kind.MAP, key=key_type, elem=elem)
    return t


def pointer_to(elem: GoType) -> GoType:
    key = ("ptr", elem)
    t = _composite_cache.get(key)
    if t is None:
        t = _composite_cache[key] = GoType(Kind.POINTER, elem=elem)
    return t


def named(name: str, underlying: GoType, **kwargs: Any) -> GoType:
    """A defined type `type name underlying` (methods are added to `.methods` afterwards)."""
    t = GoType(
        underlying.kind,
        name,
        elem=kwargs.get("elem", underlying.elem),
        key=kwargs.get("key", underlying.key),
        fields=kwargs.get("fields", underlying.fields),
        underlying=underlying,
    )
    return t


T_STRING_SLICE = slice_of(T_STRING)
T_BYTE_SLICE = slice_of(T_UINT8)
T_INTERFACE_SLICE = slice_of(T_EMPTY_INTERFACE)


# -- values -----------------------------------------------------------------


class GoStr(str):
    """A value of a named string type (template.HTML, …)."""

    gotype: GoType = T_STRING
    __slots__ = ()


class GoInt(int):
    """A value of a sized or named integer type (int64, uint8, time.Duration, …)."""

    gotype: GoType = T_INT64
    __slots__ = ()


class Int64(GoInt):
    gotype = T_INT64
    __slots__ = ()


class Int32(GoInt):
    gotype = T_INT32
    __slots__ = ()


class Uint8(GoInt):
    gotype = T_UINT8
    __slots__ = ()


class Uint64(GoInt):
    gotype = T_UINT64
    __slots__ = ()


class GoFloat(float):
    gotype: GoType = T_FLOAT32
    __slots__ = ()


class Slice(list):
    """A Go slice; `nil` marks a nil slice (which prints and ranges like an empty one)."""

    __slots__ = ("gotype", "nil")

    def __init__(self, items: Any = (), gotype: GoType = T_INTERFACE_SLICE, nil: bool = False) -> None:
        super().__init__(items)
        self.gotype = gotype
        self.nil = nil


class Map(dict):
    """A Go map; iteration order is irrelevant (Go sorts keys wherever order is observable)."""

    __slots__ = ("gotype", "nil")

    def __init__(self, items: Any = (), gotype: GoType | None = None, nil: bool = False) -> None:
        super().__init__(items)
        self.gotype = gotype if gotype is not None else map_of(T_STRING, T_STRING)
        self.nil = nil


class Struct:
    """Base of Go struct values; subclasses declare `gotype` and slots named like the Go fields."""

    __slots__ = ()
    gotype: GoType

    def field(self, i: int) -> Any:
        return getattr(self, self.gotype.fields[i][0])


class Ptr:
    """A non-nil pointer to `elem`."""

    __slots__ = ("elem", "gotype")

    def __init__(self, elem: Any, gotype: GoType) -> None:
        self.elem = elem
        self.gotype = gotype


class Nil:
    """The nil value of a pointer, func, chan or non-empty interface type."""

    __slots__ = ("gotype",)

    def __init__(self, gotype: GoType) -> None:
        self.gotype = gotype

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Nil) and other.gotype is self.gotype

    def __hash__(self) -> int:
        return hash(("nil", id(self.gotype)))


class NilInterface:
    """A nil `interface{}` value passed to a function (fmt prints it as <nil>)."""

    __slots__ = ()
    gotype = T_EMPTY_INTERFACE

    def __repr__(self) -> str:
        return "NilInterface"


NIL_INTERFACE = NilInterface()

_NATIVE_TYPES: dict[type, GoType] = {str: T_STRING, bool: T_BOOL, int: T_INT, float: T_FLOAT64, complex: T_COMPLEX128}


def type_of(value: Any) -> GoType:
    """The Go type of a (valid) value."""
    t = _NATIVE_TYPES.get(value.__class__)
    if t is not None:
        return t
    return value.gotype


def kind_of(value: Any) -> Kind:
    if value is None:
        return Kind.INVALID
    t = _NATIVE_TYPES.get(value.__class__)
    if t is not None:
        return t.kind
    return value.gotype.kind


def is_nil(value: Any) -> bool:
    """Go's isNil: an invalid value, or a nil value of a nillable kind."""
    if value is None or value is NIL_INTERFACE:
        return True
    if isinstance(value, Nil):
        return True
    if isinstance(value, (Slice, Map)):
        return value.nil
    return False


def zero_value(t: GoType) -> Any:
    """reflect.Zero(t)."""
    k = t.kind
    if k == Kind.STRING:
        return "" if t is T_STRING else _named_scalar(t, "")
    if k == Kind.BOOL:
        return False
    if k in INT_KINDS or k in UINT_KINDS:
        return 0 if t is T_INT else _named_scalar(t, 0)
    if k in FLOAT_KINDS:
        return 0.0
    if k in COMPLEX_KINDS:
        return 0j
    if k == Kind.SLICE:
        return Slice((), t, nil=True)
    if k == Kind.MAP:
        return Map((), t, nil=True)
    if k == Kind.INTERFACE:
        return NIL_INTERFACE if t is T_EMPTY_INTERFACE else Nil(t)
    if k == Kind.STRUCT:
        factory = _ZERO_FACTORIES.get(t)
        if factory is not None:
            return factory()
    return Nil(t)


_ZERO_FACTORIES: dict[GoType, Callable[[], Any]] = {}
_SCALAR_CLASSES: dict[GoType, type] = {}


def register_scalar_class(cls: type) -> type:
    _SCALAR_CLASSES[cls.gotype] = cls  # type: ignore[attr-defined]
    return cls


def register_zero(t: GoType, factory: Callable[[], Any]) -> None:
    _ZERO_FACTORIES[t] = factory


for _cls in (Int64, Int32, Uint8, Uint64):
    register_scalar_class(_cls)


def _named_scalar(t: GoType, value: Any) -> Any:
    cls = _SCALAR_CLASSES.get(t)
    if cls is None:
        if t.kind == Kind.STRING:
            cls = type(f"GoStr_{t}", (GoStr,), {"gotype": t, "__slots__": ()})
        elif t.kind in FLOAT_KINDS:
            cls = type(f"GoFloat_{t}", (GoFloat,), {"gotype": t, "__slots__": ()})
        else:
            cls = type(f"GoInt_{t}", (GoInt,), {"gotype": t, "__slots__": ()})
        _SCALAR_CLASSES[t] = cls
    return cls(value)


def convert_scalar(t: GoType, value: Any) -> Any:
    """A scalar of kind-compatible Python value as a value of Go type `t`."""
    if t is T_STRING or t is T_INT or t is T_BOOL or t is T_FLOAT64 or t is T_COMPLEX128:
        return value
    if t.kind == Kind.BOOL:
        return bool(value)
    return _named_scalar(t, value)


def assignable(value_type: GoType, target: GoType) -> bool:
    """Go's AssignableTo for the types templates meet."""
    if value_type is target:
        return True
    if target.kind == Kind.INTERFACE:
        if target is T_EMPTY_INTERFACE:
            return True
        if target is T_ERROR:
            return "Error" in value_type.methods
        return False
    # Identical underlying types, and at least one of the two is not a defined type.
    if value_type.underlying is target.underlying and (not value_type.named or not target.named):
        return True
    return False


def struct_fields(t: GoType) -> tuple[tuple[str, GoType], ...]:
    return t.fields
