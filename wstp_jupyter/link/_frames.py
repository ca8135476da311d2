"""Frame layer: the fixed 8-byte header, the frame kinds, and a resumable frame reader.

Every unit on the wire is a frame::

    offset  size  field
    0       1     kind      (FrameKind)
    1       1     flags     (must be 0 in version 1)
    2       2     reserved  (must be 0)
    4       4     length    (payload length, unsigned little-endian)
    8       n     payload

The reader accepts input in pieces of any size. Small frames are parsed out of one growing
``bytearray`` with a read offset (no per-frame deletion, so a burst of tiny frames costs linear
time). A payload of ``BIG_FRAME`` bytes or more gets its own buffer of exactly its size, and
``get_buffer()`` hands out the unfilled tail of that buffer so a socket can ``recv_into`` it
directly: an 80 MB packed array is copied once, by the kernel, into its final place. That buffer
is a ``numpy.empty`` block, so a header that merely *declares* a large payload reserves address
space but touches no memory until the bytes actually arrive.

Nothing here knows about handshakes or expressions; kinds and lengths are checked against a
caller-supplied policy (``admit``) at header time, before any payload memory is reserved.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import struct
import sys
import types
import weakref
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from wstp_jupyter.link._errors import RemoteProtocolError

if TYPE_CHECKING:
    import numpy as np

HEADER = struct.Struct("<BBHI")
HEADER_SIZE = HEADER.size  # 8
MAX_PAYLOAD = 0xFFFFFFFF  # the length field is 32 bits

# Payloads at least this large are received straight into a buffer of their own.
BIG_FRAME = 1 << 20
# Size of the scratch buffer handed to recv_into while no big payload is pending.
SCRATCH_SIZE = 1 << 18


# CPython lays a bytes object out as a header followed by its characters; ``__basicsize__`` - 1
# is the offset of the first character (the terminating NUL is counted in the basic size).
_BYTES_DATA_OFFSET = bytes.__basicsize__ - 1
_CAN_FILL_BYTES = sys.implementation.name == "cpython"
_MADV_HUGEPAGE = 14  # Linux <sys/mman.h>
_madvise: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        _madvise = ctypes.CDLL(None, use_errno=True).madvise
        _madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _madvise.restype = ctypes.c_int


def _huge_pages(addr: int, length: int) -> None:
    """Ask Linux to back a large buffer with transparent huge pages (best effort).

    Receiving 80 MB into fresh 4 KiB pages costs ~20,000 page faults, several times the copy
    itself; numpy asks the same for its large arrays, which is why a raw receive into
    ``numpy.empty`` is fast. Errors are ignored: the buffer works either way.
    """
    if _madvise is None:
        return
    page = mmap.PAGESIZE
    start = (addr + page - 1) & ~(page - 1)
    end = (addr + length) & ~(page - 1)
    if end > start:
        _madvise(start, end - start, _MADV_HUGEPAGE)


def _receive_buffer(length: int) -> tuple[bytes | np.ndarray, memoryview]:
    """A buffer of ``length`` bytes to receive a big payload into, and a writable view of it.

    On CPython the buffer is a fresh, unshared ``bytes`` object (``bytes(n)`` is calloc'ed, so
    its pages are not touched until written) that is filled through the view before anyone
    else sees it - exactly what C code does when it builds a bytes object. Handing ``bytes``
    to ``wxf.loads`` lets packed arrays be zero-copy views of the received data instead of a
    second 80 MB copy. Elsewhere a ``numpy.empty`` block is used (loads then copies once).
    """
    if _CAN_FILL_BYTES:
        owner = bytes(length)
        addr = id(owner) + _BYTES_DATA_OFFSET
        _huge_pages(addr, length)
        raw = (ctypes.c_char * length).from_address(addr)
        return owner, memoryview(raw).cast("B")
    import numpy as np  # only on interpreters other than CPython

    block = np.empty(length, dtype=np.uint8)
    return block, memoryview(block)  # type: ignore[arg-type]


class FrameKind(IntEnum):
    """The kind byte of a frame header (docs/protocol.md, "Frame kinds")."""

    HELLO = 0x01
    AUTH = 0x02
    WELCOME = 0x03
    EXPRESSION = 0x10
    MESSAGE = 0x11
    CLOSE = 0x12


# HELLO payload: magic, version, role, flags, nonce, connection id (docs/protocol.md).
MAGIC = b"WSTPJLNK"
VERSION = 1
HELLO = struct.Struct("<8sHBB32s16s")  # 60 bytes
PROOF_SIZE = 32  # HMAC-SHA256
WELCOME = struct.Struct("<32s16s")  # listener proof, connection id
MESSAGE = struct.Struct("<II")  # code, argument
CLOSE_HEAD = struct.Struct("<i")  # reason code (a WSTP error code), then UTF-8 text
MAX_CLOSE_TEXT = 1024

# Exact payload sizes of the fixed-layout kinds; EXPRESSION and CLOSE vary.
FIXED_SIZES: dict[int, int] = {
    FrameKind.HELLO: HELLO.size,
    FrameKind.AUTH: PROOF_SIZE,
    FrameKind.WELCOME: WELCOME.size,
    FrameKind.MESSAGE: MESSAGE.size,
}

Payload = bytes | bytearray | memoryview
# admit(kind, length) raises RemoteProtocolError when the frame is not acceptable right now.
Admit = Callable[[int, int], None]


def header(kind: int, length: int) -> bytes:
    """The 8 header bytes of a frame with ``length`` payload bytes."""
    return HEADER.pack(kind, 0, 0, length)


def frame(kind: int, payload: bytes) -> bytes:
    """One complete frame as bytes."""
    return HEADER.pack(kind, 0, 0, len(payload)) + payload


def close_payload(code: int, text: str) -> bytes:
    """Payload of a CLOSE frame; the text is truncated (on a character boundary) to 1024 bytes."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_CLOSE_TEXT:
        raw = raw[:MAX_CLOSE_TEXT].decode("utf-8", "ignore").encode("utf-8")
    return CLOSE_HEAD.pack(code) + raw


class FrameReader:
    """Resumable frame parser; see the module docstring.

    ``admit`` is called with each header's kind and length before the payload is buffered.
    """

    def __init__(self, admit: Admit) -> None:
        # The owner (a Connection) passes one of its own bound methods; holding it weakly keeps
        # the pair free of a reference cycle, so a closed link's buffers go back at once instead
        # of waiting for the cyclic garbage collector (a server with many short-lived links
        # grew by megabytes between collections).
        if isinstance(admit, types.MethodType):
            ref = weakref.WeakMethod(admit)

            def weak_admit(kind: int, length: int) -> None:
                method = ref()
                if method is None:
                    raise RemoteProtocolError("the link owning this reader is gone")
                method(kind, length)

            self._admit: Admit = weak_admit
        else:
            self._admit = admit
        # Frames of kind ``fast_kind`` whose length is within ``fast_min..fast_max`` are
        # accepted without calling ``admit``: the owner sets these while such frames are legal
        # (an established link's expressions), so the per-frame hot path makes no extra calls.
        self.fast_kind = -1
        self.fast_min = 0
        self.fast_max = -1
        self._buf = bytearray()
        self._pos = 0
        # Allocated on first use: links that never receive through get_buffer() (in-memory
        # pairs, IntraProcess) should not pay for it.
        self._scratch_buf: bytearray | None = None
        self._scratch_view: memoryview | None = None
        self._big: bytes | np.ndarray | None = None
        self._big_view: memoryview | None = None
        self._big_kind = 0
        self._big_filled = 0
        self.eof = False

    # -- input ------------------------------------------------------------------------------

    def feed(self, data: Payload) -> None:
        """Add received bytes; ``b""`` marks the end of the stream."""
        if not data:
            self.eof = True
            return
        if self._big_view is not None:
            room = len(self._big_view) - self._big_filled
            take = min(room, len(data))
            self._big_view[self._big_filled : self._big_filled + take] = memoryview(data)[:take]
            self._big_filled += take
            if take < len(data):
                self._buf += memoryview(data)[take:]
            return
        self._buf += data

    def get_buffer(self) -> memoryview:
        """A writable buffer to receive into; follow with ``buffer_updated(n)``."""
        # While a big payload is incomplete every earlier byte has been consumed, so the next
        # bytes on the stream belong to it.
        if self._big_view is not None and self._big_filled < len(self._big_view):
            return self._big_view[self._big_filled :]
        view = self._scratch_view
        if view is None:
            self._scratch_buf = bytearray(SCRATCH_SIZE)
            view = self._scratch_view = memoryview(self._scratch_buf)
        return view

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written into the buffer last returned by ``get_buffer``."""
        if nbytes <= 0:
            return
        if self._big_view is not None and self._big_filled < len(self._big_view):
            self._big_filled += nbytes
        else:
            assert self._scratch_view is not None
            self.feed(self._scratch_view[:nbytes])

    # -- output -----------------------------------------------------------------------------

    def next_frame(self) -> tuple[int, Payload] | None:
        """The next complete frame as ``(kind, payload)``, or ``None`` if more data is needed.

        Raises:
            RemoteProtocolError: the header is malformed or refused by ``admit``, or the
                stream ended inside a frame.
        """
        if self._big_view is not None:
            if self._big_filled < len(self._big_view):
                if self.eof:
                    raise RemoteProtocolError("connection ended in the middle of a frame")
                return None
            big = self._big
            assert big is not None
            self._big_view.release()
            self._big = self._big_view = None
            self._big_filled = 0
            kind = self._big_kind
            return kind, big if isinstance(big, bytes) else memoryview(big)  # type: ignore[arg-type]
        avail = len(self._buf) - self._pos
        if avail < HEADER_SIZE:
            if not avail:  # everything consumed (the usual case): start the buffer afresh
                if self._pos:
                    self._buf.clear()
                    self._pos = 0
                return None
            if self.eof:
                raise RemoteProtocolError("connection ended in the middle of a frame header")
            self._compact()
            return None
        buf, pos = self._buf, self._pos
        kind, flags, reserved, length = HEADER.unpack_from(buf, pos)
        if flags or reserved:
            raise RemoteProtocolError(
                f"frame header has nonzero flags/reserved bits ({flags:#x}, {reserved:#x})"
            )
        if kind != self.fast_kind or not self.fast_min <= length <= self.fast_max:
            self._admit(kind, length)
        start = pos + HEADER_SIZE
        if length >= BIG_FRAME:
            self._start_big(kind, length, start)
            return self.next_frame()
        end = start + length
        if end > len(buf):
            if self.eof:
                raise RemoteProtocolError("connection ended in the middle of a frame")
            self._compact()
            return None
        payload = bytes(buf[start:end])
        self._pos = end
        return kind, payload

    def _start_big(self, kind: int, length: int, start: int) -> None:
        self._big, self._big_view = _receive_buffer(length)
        have = min(length, len(self._buf) - start)
        if have:
            self._big_view[:have] = memoryview(self._buf)[start : start + have]
        self._pos = start + have
        self._compact()
        self._big_kind = kind
        self._big_filled = have

    def _compact(self) -> None:
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > 65536 and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames (for diagnostics)."""
        return len(self._buf) - self._pos + self._big_filled
