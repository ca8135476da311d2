"""The expression model: symbols, compound expressions and the ``wl`` factory.

A Wolfram Language expression is either an atom or ``head[arg1, arg2, ...]``. Atoms map to natural
Python values (``int``, ``float``, ``str``, ``bytes``, ...); what has no natural Python value is a
:class:`Symbol` or an :class:`Expr`. Both are immutable. A symbol precomputes its own WXF bytes at
construction so the encoder writes it with one ``append``; an expression hashes lazily because most
expressions are never hashed.

Equality is structural in Python's sense: ``f[1] == f[1.0]`` is true here (as ``1 == 1.0`` is),
whereas the Wolfram Language's ``SameQ`` tells them apart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, Final, overload

from wstp_jupyter.wxf._errors import WXFError

# The InputForm printer (``_inputform``) needs every model class, so it registers itself here
# when it is imported (``wxf/__init__`` does that) instead of the model importing its printer.
_input_printer: Callable[[object], str] | None = None


def set_input_printer(printer: Callable[[object], str]) -> None:
    """Install the function that ``repr`` of model values uses (called once by ``_inputform``)."""
    global _input_printer
    _input_printer = printer


def input_text(value: object) -> str:
    """InputForm text of a model value, through the registered printer."""
    # Importing any module of the package runs ``wxf/__init__`` first, which registers it.
    assert _input_printer is not None, "wstp_jupyter.wxf._inputform was not imported"
    return _input_printer(value)

_SYSTEM: Final = "System`"


def _symbol_bytes(name: str) -> bytes:
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        raise WXFError(f"symbol name {name!r} is not valid Unicode text") from None
    n = len(raw)
    if n < 0x80:
        return b"s" + bytes((n,)) + raw
    out = bytearray(b"s")
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + raw


class Symbol:
    """A Wolfram Language symbol such as ``Plus`` or ``Global`x``.

    Args:
        name: the full name. A leading ``System` `` is dropped because WXF writes System
            symbols bare (``Symbol("System`Plus") == Symbol("Plus")``).

    Raises:
        WXFError: ``name`` is not a non-empty string.

    Calling a symbol builds an expression (``Symbol("f")(1)`` is ``f[1]``); reading an unknown
    attribute appends a context level (``Symbol("Global").x`` is ``Global`x``), which is what makes
    ``wl.Global.x`` work.
    """

    __slots__ = ("_hash", "_name", "_wxf")

    _name: str
    _hash: int
    _wxf: bytes

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise WXFError(f"a symbol name must be a str, not {type(name).__name__}")
        name = str(name)
        if name.startswith(_SYSTEM) and len(name) > len(_SYSTEM):
            name = name[len(_SYSTEM) :]
        if not name:
            raise WXFError("a symbol name must not be empty")
        self._name = name
        self._hash = hash(("Symbol", name))
        self._wxf = _symbol_bytes(name)

    @property
    def name(self) -> str:
        """The full name as written in WXF (no ``System` `` prefix)."""
        return self._name

    @property
    def context(self) -> str:
        """The context with its trailing backquote (``"Global`"``), or ``""`` for a bare name."""
        i = self._name.rfind("`")
        return self._name[: i + 1]

    @property
    def short_name(self) -> str:
        """The name without its context (``"x"`` for ``Global`x``)."""
        return self._name[self._name.rfind("`") + 1 :]

    def __call__(self, *args: object) -> Expr:
        return Expr(self, *args)

    def __getattr__(self, attr: str) -> Symbol:
        # Only ever reached for names that are not real attributes; dunder and private probes
        # (pickle, copy, numpy's __array__ ...) must keep failing normally.
        if attr.startswith("_"):
            raise AttributeError(attr)
        return Symbol(f"{self._name}`{attr}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is Symbol:
            return self._name == other._name
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if other.__class__ is Symbol:
            return self._name != other._name
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> tuple[type[Symbol], tuple[str]]:
        return (Symbol, (self._name,))


class Expr:
    """A compound expression ``head[args...]``.

    Args:
        head: any expression; usually a :class:`Symbol`, possibly another ``Expr`` (``f[x][y]``).
        *args: the arguments, any encodable values.

    ``len()``, indexing and iteration range over the arguments; calling an expression builds one
    with this expression as its head. Equality is structural; the hash exists when every part is
    hashable (an argument that is a ``list`` makes the expression unhashable, as a tuple would be).
    """

    __slots__ = ("_args", "_hash", "_head")

    _head: object
    _args: tuple[object, ...]
    _hash: int

    def __init__(self, head: object, *args: object) -> None:
        self._head = head
        self._args = args

    @property
    def head(self) -> object:
        """The head expression."""
        return self._head

    @property
    def args(self) -> tuple[object, ...]:
        """The arguments, as a tuple."""
        return self._args

    @property
    def head_name(self) -> str | None:
        """The head's full symbol name (``"Plus"``, ``"Global`f"``), or ``None`` for other heads."""
        head = self._head
        return head._name if head.__class__ is Symbol else None

    def has_head(self, name: str | Symbol) -> bool:
        """Return whether the head is the symbol ``name`` (``System` `` optional)."""
        sym = name if isinstance(name, Symbol) else Symbol(name)
        return self._head == sym

    def __len__(self) -> int:
        return len(self._args)

    @overload
    def __getitem__(self, index: int) -> object: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[object, ...]: ...

    def __getitem__(self, index: int | slice) -> object:
        return self._args[index]

    def __iter__(self) -> Iterator[object]:
        return iter(self._args)

    def __call__(self, *args: object) -> Expr:
        return Expr(self, *args)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if other.__class__ is not Expr:
            return NotImplemented
        try:
            return bool(self._head == other._head and self._args == other._args)
        except (ValueError, RecursionError):
            # numpy arrays among the parts compare elementwise; compare them as whole values.
            # A deep expression (f[f[...]] 1000 levels down) exhausts the recursion of the
            # tuple comparison: the explicit stack of deep_equal has no depth limit.
            return deep_equal(self, other)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            pass
        try:
            self._hash = h = hash((self._head, self._args))
        except RecursionError:
            h = _deep_hash(self)
        return h

    def __repr__(self) -> str:
        return input_text(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Expr, (self._head, *self._args))


def deep_equal(a: object, b: object) -> bool:
    """Structural equality that also compares numpy arrays as whole values (dtype, shape, data)."""
    np = sys.modules.get("numpy")  # without numpy loaded there are no arrays to compare
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if np is not None and (isinstance(x, np.ndarray) or isinstance(y, np.ndarray)):
            if not (
                isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray)
                and x.dtype == y.dtype
                and x.shape == y.shape
                and bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
            ):
                return False
        elif x.__class__ is Expr and y.__class__ is Expr:
            if len(x._args) != len(y._args):
                return False
            stack.append((x._head, y._head))
            stack.extend(zip(x._args, y._args, strict=True))
        elif isinstance(x, list | tuple) and isinstance(y, list | tuple):
            if type(x) is not type(y) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, dict) and isinstance(y, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif hasattr(x, "_deep_parts") and hasattr(y, "_deep_parts"):
            if type(x) is not type(y):
                return False
            px, py = x._deep_parts(), y._deep_parts()
            if len(px) != len(py):
                return False
            stack.extend(zip(px, py, strict=True))
        elif x != y:
            return False
    return True


def _deep_hash(root: Expr) -> int:
    """``hash(root)`` computed innermost first with an explicit stack, so any depth works.

    Gives what ``Expr.__hash__`` gives (``hash((head, args))`` at each level) by caching the
    hash of every nested ``Expr`` before its parent's is taken; an unhashable part raises
    ``TypeError`` as the plain hash does.
    """
    pending: list[tuple[Expr, bool]] = [(root, False)]
    while pending:
        expr, ready = pending.pop()
        if ready:
            expr._hash = hash((expr._head, expr._args))
            continue
        if hasattr(expr, "_hash"):
            continue
        pending.append((expr, True))
        for part in (expr._head, *expr._args):
            if part.__class__ is Expr and not hasattr(part, "_hash"):
                pending.append((part, False))
    return root._hash


class _WLFactory:
    """``wl.Plus`` is ``Symbol("Plus")``; ``wl.Global.x`` is ``Symbol("Global`x")``;
    ``wl["$Failed"]`` reaches names that are not Python identifiers."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Symbol:
        if name.startswith("_"):
            raise AttributeError(name)
        return Symbol(name)

    def __getitem__(self, name: str) -> Symbol:
        return Symbol(name)

    def __repr__(self) -> str:
        return "wl"


wl: Final = _WLFactory()

# Symbols the codec and the layers above use all the time.
LIST: Final = Symbol("List")
RULE: Final = Symbol("Rule")
RULE_DELAYED: Final = Symbol("RuleDelayed")
RATIONAL: Final = Symbol("Rational")
COMPLEX: Final = Symbol("Complex")
ASSOCIATION: Final = Symbol("Association")
NULL: Final = Symbol("Null")
TRUE: Final = Symbol("True")
FALSE: Final = Symbol("False")
DIRECTED_INFINITY: Final = Symbol("DirectedInfinity")
INDETERMINATE: Final = Symbol("Indeterminate")
FAILED: Final = Symbol("$Failed")
ABORTED: Final = Symbol("$Aborted")
