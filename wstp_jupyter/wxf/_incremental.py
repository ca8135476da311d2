"""The incremental decoder: bytes in with ``feed()``, documents out with ``next()``.

How it works, sans-IO in the style of h11: the decoder buffers what it is fed and ``next()``
returns a value or :data:`NEED_DATA`. When a document starts it first tries a direct decode of
what is buffered (the common case: the whole document is there). If that runs out of bytes it
switches to a *scanner* that walks the document's structure without building anything and
records its progress (offset and a stack of remaining-item counts) after every complete token,
so each later ``feed`` costs time proportional to the new bytes only, never a re-parse from the
start. When the scanner reaches the end of the document, the document is decoded once.

The scanner checks the same limits as the builder (depth, lengths, total size), so a hostile
stream fails as soon as the offending field is buffered, before any large allocation.

``8C:`` documents stream through a ``zlib.decompressobj`` whose output is capped at
``max_size``; the inflated expression is decoded when the zlib stream ends. Bytes after a
document stay buffered for the next one. After a decode error the stream has lost its framing,
so the decoder stays failed and ``next()`` raises the same error again.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Final

from wstp_jupyter.wxf._decode_parts import array_header
from wstp_jupyter.wxf._decoder import (
    DEFAULT_LIMITS,
    Limits,
    Truncated,
    build,
    header_length,
    read_varint,
)
from wstp_jupyter.wxf._errors import WXFDecodeError, WXFLimitError


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"

    def __reduce__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()
"""Returned by :meth:`Decoder.next` while no complete document is buffered."""

# Token -> payload size for fixed-size tokens.
_FIXED: Final = {0x43: 1, 0x6A: 2, 0x69: 4, 0x4C: 8, 0x72: 8}
# Tokens followed by varint(length) + that many bytes.
_SIZED: Final = {0x53: "string", 0x73: "symbol name", 0x42: "byte array", 0x49: "number text",
                 0x52: "number text"}  # fmt: skip
_ASSOC: Final = 1


class _Scan:
    """Progress through one document: offset of the next token and open frames."""

    __slots__ = ("pos", "stack")

    def __init__(self, pos: int) -> None:
        self.pos = pos
        # [kind, items still expected]; the root frame expects the one top-level expression.
        self.stack: list[list[int]] = [[0, 1]]


def _scan(data: bytearray, base: int, st: _Scan, limits: Limits) -> int | None:
    """Advance ``st`` over complete tokens of the document at ``base``.

    Returns:
        The document's length once its last token is buffered, else None.

    Raises:
        WXFDecodeError / WXFLimitError: as the builder would, as early as possible.
    """
    end = len(data)
    pos = base + st.pos
    stack = st.stack
    max_length = limits.max_length
    size_end = base + limits.max_size
    try:
        while stack:
            frame = stack[-1]
            if not frame[1]:
                stack.pop()
                continue
            if frame[0] == _ASSOC and not frame[1] & 1:
                mark = data[pos]
                if mark not in {0x2D, 0x3A}:
                    raise WXFDecodeError(f"expected a rule at offset {pos - base}")
                pos += 1
            at = pos - base
            tok = data[pos]
            pos += 1
            size = _FIXED.get(tok)
            if size is not None:
                pos += size
            elif tok in _SIZED:
                n, pos = read_varint(data, pos)
                if n > max_length:
                    raise WXFLimitError(
                        f"{_SIZED[tok]} of {n} bytes at offset {at} exceeds max_length {max_length}"
                    )
                pos += n
            elif tok in {0x66, 0x41}:
                n, pos = read_varint(data, pos)
                if n > max_length:
                    raise WXFLimitError(
                        f"{n} elements at offset {at} exceed max_length {max_length}"
                    )
                if len(stack) > limits.max_depth:
                    raise WXFLimitError(
                        f"nesting deeper than max_depth {limits.max_depth} at offset {at}"
                    )
                frame[1] -= 1
                stack.append([0, n + 1] if tok == 0x66 else [_ASSOC, 2 * n])
                st.pos = pos - base
                continue
            elif tok in {0xC1, 0xC2}:
                pos = _skip_array(data, pos, tok, at, limits)
            elif tok in {0x2D, 0x3A}:
                raise WXFDecodeError(f"rule token at offset {at} outside an association")
            else:
                raise WXFDecodeError(f"unknown token 0x{tok:02x} at offset {at}")
            if pos > size_end:
                raise WXFLimitError(f"document exceeds max_size {limits.max_size}")
            if pos > end:
                raise Truncated
            frame[1] -= 1
            st.pos = pos - base
    except (Truncated, IndexError):
        return None
    return st.pos


def _skip_array(data: bytearray, pos: int, tok: int, at: int, limits: Limits) -> int:
    spec, _, count, pos = array_header(data, pos, tok, at, limits)
    return pos + count * spec.itemsize


class Decoder:
    """Incremental WXF decoder for a stream of documents.

    Args:
        limits: receiver limits (default :class:`Limits`()).

    Use :meth:`feed` with whatever bytes arrive and call :meth:`next` until it returns
    :data:`NEED_DATA`. Iterating over the decoder yields the documents currently complete.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self._limits = DEFAULT_LIMITS if limits is None else limits
        self._buf = bytearray()
        self._off = 0  # start of the current document in _buf
        self._snap: bytes | None = None  # immutable copy of _buf[_snap_base:]
        self._snap_base = 0
        self._scan: _Scan | None = None
        self._inflater: Any = None
        self._inflated = bytearray()
        self._error: WXFDecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes fed but not yet returned as part of a document."""
        return len(self._buf) - self._off + len(self._inflated)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes (an empty chunk is a no-op)."""
        if not data:
            return
        if self._off and self._off * 2 >= len(self._buf):
            del self._buf[: self._off]
            self._off = 0
        self._buf += data
        self._snap = None

    def next(self) -> Any:
        """Return the next complete document's expression, or :data:`NEED_DATA`.

        Raises:
            WXFDecodeError: the stream is malformed (``WXFLimitError`` for a limit); the decoder
                then stays failed.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except WXFDecodeError as exc:
            self._error = exc
            raise

    def __iter__(self) -> Iterator[Any]:
        while True:
            value = self.next()
            if value is NEED_DATA:
                return
            yield value

    def _next(self) -> Any:
        if self._inflater is not None:
            return self._next_compressed()
        buf, off, limits = self._buf, self._off, self._limits
        if self._scan is None:
            if len(buf) == off:
                return NEED_DATA
            hl = header_length(buf[off : off + 3])
            if hl is None:
                return NEED_DATA
            if hl == 3:
                self._off += 3
                self._inflater = zlib.decompressobj()
                return self._next_compressed()
            if self._snap is None:
                with memoryview(buf) as view:
                    self._snap = bytes(view[off:])
                self._snap_base = off
            rel = off - self._snap_base
            try:
                value, stop = build(self._snap, rel + 2, limits, zero_copy=True)
            except Truncated:
                if len(buf) - off > limits.max_size:
                    raise WXFLimitError(f"document exceeds max_size {limits.max_size}") from None
                self._scan = _Scan(2)
            else:
                if stop - rel > limits.max_size:
                    raise WXFLimitError(f"document exceeds max_size {limits.max_size}")
                self._off += stop - rel
                return value
        length = _scan(buf, off, self._scan, limits)
        if length is None:
            return NEED_DATA
        self._scan = None
        with memoryview(buf) as view:
            doc = bytes(view[off : off + length])
        self._off += length
        try:
            value, _ = build(doc, 2, limits, zero_copy=True)
        except Truncated:  # the scanner said it was complete; the builder disagrees
            raise WXFDecodeError("inconsistent document structure") from None
        return value

    def _next_compressed(self) -> Any:
        buf, limits = self._buf, self._limits
        inflater = self._inflater
        if len(buf) > self._off:
            with memoryview(buf) as view:
                chunk = bytes(view[self._off :])
            self._off = len(buf)
            room = limits.max_size - len(self._inflated)
            try:
                out = inflater.decompress(chunk, room + 1)
            except zlib.error as exc:
                raise WXFDecodeError(f"bad zlib stream in 8C: document: {exc}") from None
            if len(out) > room:
                raise WXFLimitError(f"inflated document exceeds max_size {limits.max_size}")
            self._inflated += out
        if not inflater.eof:
            return NEED_DATA
        self._off -= len(inflater.unused_data)
        body = bytes(self._inflated)
        self._inflater = None
        self._inflated = bytearray()
        try:
            value, stop = build(body, 0, limits, zero_copy=True)
        except Truncated:
            raise WXFDecodeError("truncated expression inside an 8C: document") from None
        if stop != len(body):
            raise WXFDecodeError(f"{len(body) - stop} trailing bytes inside an 8C: document")
        return value
