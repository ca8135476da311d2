"""WXF reader: one expression from a complete buffer, plus ``loads``.

How it works: :func:`build` walks the tokens in one loop with an explicit stack of open
compounds, so nesting depth costs no Python recursion and is checked against
:class:`Limits` before a frame is pushed. The top frame lives in local variables; values are
appended to its item list and a finished frame becomes a ``list``, ``dict``, ``Fraction``,
``complex``, ``Association`` or ``Expr``. Every length field is checked against the limits and
against the bytes actually present before anything is allocated, so a field claiming 2**60
elements costs nothing. Running out of bytes raises the private ``Truncated``; the incremental
:class:`~wstp_jupyter.wxf.Decoder` turns that into "need more data", :func:`loads` into an error.
Packed arrays are ``numpy.frombuffer`` views of the input when it is immutable ``bytes``.
"""

from __future__ import annotations

import gc
import struct
import zlib
from typing import Any, Final

from wstp_jupyter.wxf._decode_parts import (
    DEFAULT_LIMITS,
    HEADS,
    SYMBOLS,
    UNPACK_D,
    UNPACK_H,
    UNPACK_I,
    UNPACK_Q,
    Limits,
    Truncated,
    finish_assoc,
    finish_func,
    head_symbol,
    header_length,
    inflate,
    read_array,
    read_number,
    read_text,
    read_varint,
    symbol_value,
)
from wstp_jupyter.wxf._errors import WXFDecodeError, WXFError, WXFLimitError
from wstp_jupyter.wxf._model import COMPLEX, LIST, RATIONAL, Expr, Symbol
from wstp_jupyter.wxf._rows import MAX_ARGS, row_reader, shape
from wstp_jupyter.wxf._runs import RUN_MIN, same_width_run
from wstp_jupyter.wxf._small import SMALL_MAX, NotSmall, build_small

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "Truncated",
    "build",
    "header_length",
    "inflate",
    "loads",
    "peek_head",
]

_unpack_h: Final = UNPACK_H
_unpack_i: Final = UNPACK_I
_unpack_q: Final = UNPACK_Q
_unpack_d: Final = UNPACK_D

_BATCH: Final = 64  # tokens read one by one between two vectorised-run attempts
_GC_PAUSE_MIN: Final = 1 << 12  # documents at least this big decode with the collector paused

# Number tokens: byte -> (struct code, bytes taken including the token).
_NUMBERS: Final = {0x43: ("b", 2), 0x6A: ("h", 3), 0x69: ("i", 5), 0x4C: ("q", 9), 0x72: ("d", 9)}
_WIDTHS: Final = [_NUMBERS[b][1] if b in _NUMBERS else 0 for b in range(256)]
# Every sequence of four number tokens -> the unpacker of all four values in one call.
_QUADS: Final = {
    a << 24 | b << 16 | c << 8 | d: struct.Struct(
        "<" + "".join("x" + _NUMBERS[t][0] for t in (a, b, c, d))
    ).unpack_from
    for a in _NUMBERS
    for b in _NUMBERS
    for c in _NUMBERS
    for d in _NUMBERS
}

# Frame kinds.
_ROOT: Final = 0
_LIST: Final = 1
_FUNC: Final = 2  # head already known (a symbol)
_FUNC_HEAD: Final = 3  # compound head: the first item is the head
_ASSOC: Final = 4


def build(data: Any, pos: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    """Decode one expression starting at ``pos`` (after the header).

    Args:
        data: ``bytes`` (arrays may then be zero-copy views) or ``bytearray``.
        pos: offset of the expression's first token.
        limits: the receiver's limits.
        zero_copy: return arrays that view ``data`` instead of copies (only for ``bytes``).

    Returns:
        ``(value, offset after the expression)``.

    Raises:
        Truncated: ``data`` ends before the expression does.
        WXFDecodeError: malformed input; ``WXFLimitError`` for a limit.
    """
    try:
        if len(data) - pos < _GC_PAUSE_MIN or not gc.isenabled():
            return _build(data, pos, limits, zero_copy)
        # Decoding allocates many containers and no reference cycles; letting the cyclic
        # collector traverse the growing result again and again costs more than the decoding.
        gc.disable()
        try:
            return _build(data, pos, limits, zero_copy)
        finally:
            gc.enable()
    except (IndexError, struct.error):
        raise Truncated from None
    except UnicodeDecodeError as exc:
        raise WXFDecodeError(f"a string is not valid UTF-8: {exc.reason}") from None


def _read_atoms(  # noqa: PLR0917
    data: Any, pos: int, n: int, out: list[Any], symbols: dict[bytes, Any], max_length: int
) -> int:
    """Append up to ``n`` consecutive simple atoms to ``out``; return the offset reached.

    Stops early at the first token that is not an integer, real, string or symbol. This is the
    hot path: most arguments and list elements are such atoms, and reading them here costs no
    frame bookkeeping. The count ``n`` decides only how far to read; callers count what was
    appended.
    """
    append = out.append
    end = len(data)
    unpack_i, unpack_d, unpack_h, unpack_q = _unpack_i, _unpack_d, _unpack_h, _unpack_q
    widths, quads = _WIDTHS, _QUADS
    while n:
        if n >= RUN_MIN:
            # Long stretch: try a vectorised run of identical number tokens, then go token by
            # token for a batch before trying again.
            run = same_width_run(data, pos, n)
            if run is not None:
                out += run[0]
                n -= len(run[0])
                pos = run[1]
                continue
            batch = min(n, _BATCH)
        else:
            batch = n
        n -= batch
        while batch:
            tok = data[pos]
            if batch >= 4:
                # Four numbers at once: their token bytes pick one precompiled struct.
                p2 = pos + widths[tok]
                t2 = data[p2]
                p3 = p2 + widths[t2]
                t3 = data[p3]
                p4 = p3 + widths[t3]
                t4 = data[p4]
                quad = quads.get(tok << 24 | t2 << 16 | t3 << 8 | t4)
                if quad is not None:
                    out += quad(data, pos)
                    pos = p4 + widths[t4]
                    batch -= 4
                    continue
            if tok == 0x43:  # C
                v = data[pos + 1]
                append(v - 256 if v > 127 else v)
                pos += 2
            elif tok == 0x69:  # i
                append(unpack_i(data, pos)[0])
                pos += 5
            elif tok == 0x6A:  # j
                append(unpack_h(data, pos)[0])
                pos += 3
            elif tok == 0x53:  # S
                size = data[pos + 1]
                if size < 0x80:
                    pos += 2
                else:
                    size, pos = read_varint(data, pos + 1)
                if size > max_length:
                    raise WXFLimitError(f"string of {size} bytes exceeds max_length {max_length}")
                stop = pos + size
                if stop > end:
                    raise Truncated
                append(data[pos:stop].decode())  # UTF-8, strict: the cheapest spelling
                pos = stop
            elif tok == 0x72:  # r
                append(unpack_d(data, pos)[0])
                pos += 9
            elif tok == 0x4C:  # L
                append(unpack_q(data, pos)[0])
                pos += 9
            elif tok == 0x73:  # s
                size = data[pos + 1]
                if size < 0x80:
                    start = pos + 2
                else:
                    size, start = read_varint(data, pos + 1)
                if size > max_length:
                    raise WXFLimitError(f"symbol of {size} bytes exceeds max_length {max_length}")
                stop = start + size
                if stop > end:
                    raise Truncated
                raw = bytes(data[start:stop])
                sym = symbols.get(raw, symbols)
                if sym is symbols:
                    sym = symbol_value(raw, start)
                append(sym)
                pos = stop
            else:
                return pos
            batch -= 1
    return pos


def _build(data: Any, pos: int, limits: Limits, zero_copy: bool) -> tuple[Any, int]:
    max_depth = limits.max_depth
    max_length = limits.max_length
    symbols, heads = SYMBOLS, HEADS
    list_sym, rational, complex_ = LIST, RATIONAL, COMPLEX
    # Expr construction without the public __init__ (its *args packing is measurable here).
    new_object, expr_type = object.__new__, Expr
    unpack_i, unpack_d = _unpack_i, _unpack_d
    short_max = min(0x80, max_length + 1)  # strings shorter than this need no further checks
    # The bytes "f", count, head of the last call with a symbol head, and what they decode to.
    call_prefix, call_n, call_plain = b"\xff", 0, False
    call_head: Any = list_sym
    end = len(data)
    depth = 0  # == len(stack)
    # Saved frames below the open one; the open frame lives in the four locals.
    stack: list[tuple[int, list[Any], int, Any]] = []
    kind: int = _ROOT
    items: list[Any] = []
    remaining = 1
    extra: Any = None  # the head of a _FUNC frame; the rule marks of an _ASSOC frame
    while True:
        at = pos
        tok = data[pos]
        pos += 1
        if tok == 0x66:  # f
            if depth >= max_depth:
                raise WXFLimitError(f"nesting deeper than max_depth {max_depth} at offset {at}")
            if data.startswith(call_prefix, at):
                # Same count and head bytes as the previous call (rows of a table): reuse them.
                pos = at + len(call_prefix)
                n = call_n
                head = call_head
            else:
                n = data[pos]
                if n < 0x80:
                    pos += 1
                else:
                    n, pos = read_varint(data, pos)
                if n > max_length:
                    raise WXFLimitError(
                        f"function of {n} arguments at offset {at} exceeds max_length {max_length}"
                    )
                size = data[pos + 1]
                if data[pos] != 0x73 or size >= short_max:  # a compound (or very long) head
                    stack.append((kind, items, remaining, extra))
                    depth += 1
                    kind, items, remaining, extra = _FUNC_HEAD, [], n + 1, None
                    continue
                stop = pos + 2 + size
                if stop > end:
                    raise Truncated
                raw = data[pos + 2 : stop]
                head = heads.get(raw)
                if head is None:
                    head = head_symbol(raw, pos + 2)
                pos = stop
                call_prefix, call_n, call_head = data[at:pos], n, head
                # Plain calls make an Expr; only those may be read in bulk by a row reader.
                call_plain = (
                    n <= MAX_ARGS
                    and max_length >= 0x80  # row readers rely on the default-size limits
                    and head is not list_sym
                    and head is not rational
                    and head is not complex_
                )
            args: list[Any] = []
            if n >= RUN_MIN or head is list_sym:
                pos = _read_atoms(data, pos, n, args, symbols, max_length)
            elif n:
                # Few arguments: the same atom loop as _read_atoms, inlined (no call).
                append = args.append
                left = n
                while left:
                    t = data[pos]
                    if t == 0x43:  # C
                        v = data[pos + 1]
                        append(v - 256 if v > 127 else v)
                        pos += 2
                    elif t == 0x69:  # i
                        append(unpack_i(data, pos)[0])
                        pos += 5
                    elif t == 0x53 and data[pos + 1] < short_max:  # S, short
                        stop = pos + 2 + data[pos + 1]
                        if stop > end:
                            raise Truncated
                        append(data[pos + 2 : stop].decode())
                        pos = stop
                    elif t == 0x72:  # r
                        append(unpack_d(data, pos)[0])
                        pos += 9
                    else:
                        if t not in {0x66, 0x41}:  # a nested call or association is no atom
                            pos = _read_atoms(data, pos, left, args, symbols, max_length)
                        break
                    left -= 1
            if n and len(args) < n:
                stack.append((kind, items, remaining, extra))
                depth += 1
                if head is list_sym:
                    kind, items, remaining, extra = _LIST, args, n - len(args), None
                else:
                    kind, items, remaining, extra = _FUNC, args, n - len(args), head
                continue
            if head is list_sym:
                val: Any = args
            elif head is rational or head is complex_:
                val = finish_func(head, args)
            else:
                val = new_object(expr_type)
                val._head = head
                val._args = tuple(args)
        elif tok == 0x41:  # A
            n = data[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = read_varint(data, pos)
            if n > max_length:
                raise WXFLimitError(
                    f"association of {n} rules at offset {at} exceeds max_length {max_length}"
                )
            if depth >= max_depth:
                raise WXFLimitError(f"nesting deeper than max_depth {max_depth} at offset {at}")
            if not n:
                val = {}
            else:
                mark = data[pos]
                if mark not in {0x2D, 0x3A}:
                    raise WXFDecodeError(f"expected a rule at offset {pos}, got 0x{mark:02x}")
                stack.append((kind, items, remaining, extra))
                depth += 1
                kind, items, remaining, extra = _ASSOC, [], 2 * n, [mark]
                pos += 1
                continue
        elif tok in {0xC1, 0xC2}:
            val, pos = read_array(data, pos, tok, limits, zero_copy)
        elif tok in {0x49, 0x52}:  # I, R
            raw, start, pos = read_text(data, pos, limits, "number text")
            val = read_number(bytes(raw), tok, start)
        elif tok == 0x42:  # B
            raw, start, pos = read_text(data, pos, limits, "byte array")
            val = bytes(raw)
        elif tok in {0x2D, 0x3A}:
            raise WXFDecodeError(f"rule token at offset {at} outside an association")
        else:
            # A run of simple atoms goes straight into the open frame (one at a time in an
            # association, whose keys and values alternate with rule marks).
            before = len(items)
            pos = _read_atoms(
                data, at, 1 if kind >= _ASSOC or kind == _ROOT else remaining, items, symbols,
                max_length,
            )  # fmt: skip
            got = len(items) - before
            if not got:
                raise WXFDecodeError(f"unknown token 0x{tok:02x} at offset {at}")
            remaining -= got - 1
            val = items.pop()

        # Deliver `val` to the open frame; close every frame it completes.
        while True:
            items.append(val)
            remaining -= 1
            if remaining:
                if kind == _ASSOC:
                    if not remaining & 1:
                        mark = data[pos]
                        if mark not in {0x2D, 0x3A}:
                            raise WXFDecodeError(
                                f"expected a rule at offset {pos}, got 0x{mark:02x}"
                            )
                        extra.append(mark)
                        pos += 1
                elif (
                    call_plain
                    and remaining > 1
                    and depth < max_depth
                    and data.startswith(call_prefix, pos)
                ):
                    # More calls like the last one follow (rows of a table): read them in bulk
                    # with a reader specialised to the shape of this one. `val` must be that
                    # call itself: after a compound head such as h[1, 1][2], the prefix belongs
                    # to the inner h[1, 1] while `val` is the outer call.
                    kinds = (
                        shape(val._args)
                        if val.__class__ is expr_type
                        and val._head is call_head
                        and len(val._args) == call_n
                        else None
                    )
                    if kinds is None:
                        break
                    before = len(items)
                    pos = row_reader(kinds)(
                        data, pos, remaining, items, call_prefix, call_head, symbols
                    )
                    got = len(items) - before
                    if got == remaining:  # the frame is complete: deliver the last one again
                        val = items.pop()
                        remaining = 1
                        continue
                    remaining -= got
                break
            if kind == _LIST:
                val = items
            elif kind == _FUNC:
                if extra is rational or extra is complex_:
                    val = finish_func(extra, items)
                else:
                    val = new_object(expr_type)
                    val._head = extra
                    val._args = tuple(items)
            elif kind == _FUNC_HEAD:
                val = finish_func(items[0], items[1:])
            elif kind == _ASSOC:
                val = finish_assoc(items, extra)
            else:
                return items[0], pos
            kind, items, remaining, extra = stack.pop()
            depth -= 1


def loads(data: bytes | bytearray | memoryview, *, limits: Limits | None = None) -> Any:
    """Decode exactly one WXF document.

    Args:
        data: the whole document. With immutable ``bytes`` input, packed arrays are read-only
            zero-copy views of it; other buffers are copied once first.
        limits: receiver limits (default :class:`Limits`()).

    Returns:
        The expression, with the natural Python types of the module docstring.

    Raises:
        WXFDecodeError: malformed, truncated, trailing bytes after the expression;
            ``WXFLimitError`` when a limit is exceeded.
    """
    lim = DEFAULT_LIMITS if limits is None else limits
    if data.__class__ is bytes and len(data) <= min(SMALL_MAX, lim.max_size) and data[:2] == b"8:":
        try:
            value, stop = build_small(data, 2, lim)
            if stop == len(data):
                return value
        except NotSmall:
            pass  # the general decoder reads it, or explains what is wrong with it
    if not isinstance(data, bytes):
        if not isinstance(data, bytearray | memoryview):
            raise WXFDecodeError(f"expected bytes, not {type(data).__name__}")
        data = bytes(data)
    if len(data) > lim.max_size:
        raise WXFLimitError(f"document of {len(data)} bytes exceeds max_size {lim.max_size}")
    start = header_length(data)
    if start is None:
        raise WXFDecodeError("truncated WXF header")
    if start == 3:
        body, unused, finished = inflate(memoryview(data)[3:], lim)
        if not finished:
            raise WXFDecodeError("truncated zlib stream in 8C: document")
        if unused:
            raise WXFDecodeError(f"{len(unused)} trailing bytes after the zlib stream")
        data, start = body, 0
    try:
        value, stop = build(data, start, lim, zero_copy=True)
    except Truncated:
        raise WXFDecodeError(f"truncated WXF document ({len(data)} bytes)") from None
    if stop != len(data):
        raise WXFDecodeError(f"{len(data) - stop} trailing bytes after the expression")
    return value


_PEEK_BYTES: Final = 300  # enough for a header, a call token, its count and a head symbol


def peek_head(data: bytes | bytearray | memoryview) -> Symbol | None:
    """The head symbol of a document's outermost call, read from its first bytes only.

    For a receiver that could not (or would not) decode the whole document: it may still tell
    an ``EvaluatePacket[...]`` from an answer. Never raises; ``None`` when the document does
    not start with a call whose head is a symbol, or its start is not valid WXF.
    """
    try:
        view = memoryview(data)
        start = header_length(view[:3])
        if start is None:
            return None
        head = bytes(view[start : start + _PEEK_BYTES])
        if start == 3:
            head = zlib.decompressobj().decompress(bytes(view[3 : 3 + _PEEK_BYTES]), _PEEK_BYTES)
        if head[:1] != b"f":
            return None
        _, pos = read_varint(head, 1)
        if head[pos : pos + 1] != b"s":
            return None
        size, pos = read_varint(head, pos + 1)
        if pos + size > len(head):
            return None
        value = symbol_value(head[pos : pos + size], pos)
    except (WXFError, Truncated, zlib.error, ValueError):
        return None
    return value if isinstance(value, Symbol) else None
