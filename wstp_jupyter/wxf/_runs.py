"""Vectorised decoding of long runs of numbers (the decoder's fast path for numeric lists).

A run of *identical* fixed-width tokens (all Integer32, all Real64, ...) is confirmed by one
strided slice comparison of the next ``RUN_MIN`` tokens; strided slices stripped of the token
byte then find where the run ends (in chunks growing 4x, so the work is proportional to the
run), and one ``struct`` call (or numpy, for very long runs) reads all the values. The result
is plain Python ``int``/``float`` values, exactly what the token-by-token loop returns.

Integers of *mixed* widths have no vectorised path: the token boundaries depend on every
earlier token. (Splitting them with ``re.findall`` was measured and is no faster than the
token loop, because it creates one object per token as well.)
"""

from __future__ import annotations

import struct
from typing import Any, Final

# Token byte -> (struct code, token + value width in bytes, numpy dtype string of the value).
_RUNS: Final = {
    0x43: ("b", 2, "i1"),
    0x6A: ("h", 3, "<i2"),
    0x69: ("i", 5, "<i4"),
    0x4C: ("q", 9, "<i8"),
    0x72: ("d", 9, "<f8"),
}
RUN_MIN: Final = 64  # shorter runs are cheaper through the decoder's four-at-a-time path
_PROBES: Final = {tok: bytes((tok,)) * RUN_MIN for tok in _RUNS}
_STRUCT_MAX: Final = 4096  # longer runs are read by numpy, shorter ones by one struct call


def _same_token_count(data: Any, pos: int, tok: int, stride: int, n: int) -> int:
    """Count tokens equal to ``tok`` every ``stride`` bytes from ``pos`` (at most ``n``)."""
    limit = min(n, (len(data) - pos) // stride)
    mark = bytes((tok,))
    count = 0
    chunk = RUN_MIN
    while count < limit:
        take = min(chunk, limit - count)
        start = pos + count * stride
        column = data[start : start + take * stride : stride]
        rest = len(column.lstrip(mark))
        count += take - rest
        if rest:
            break
        chunk *= 4
    return count


def same_width_run(data: Any, pos: int, n: int) -> tuple[Any, int] | None:
    """Read a run of at least RUN_MIN identical number tokens at ``pos`` (at most ``n``).

    Returns:
        ``(values, offset after the run)`` with the values as a list or tuple of Python numbers,
        or None when there is no such run here.
    """
    tok = data[pos]
    run = _RUNS.get(tok)
    if run is None:
        return None
    code, stride, fmt = run
    if data[pos : pos + stride * RUN_MIN : stride] != _PROBES[tok]:
        return None
    count = _same_token_count(data, pos, tok, stride, n)
    if count <= _STRUCT_MAX:
        values: Any = struct.unpack_from("<" + ("x" + code) * count, data, pos)
    else:
        import numpy as np  # only very long runs need it

        dtype = np.dtype([("t", "u1"), ("v", fmt)])
        values = np.frombuffer(data, dtype, count, pos)["v"].tolist()
    return values, pos + count * stride
