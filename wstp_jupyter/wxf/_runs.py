"""Vectorised decoding of long runs of numbers (the decoder's fast path for numeric lists).

A run of *identical* fixed-width tokens (all Integer32, all Real64, ...) is confirmed by one
strided slice comparison of the next ``RUN_MIN`` tokens; numpy then finds where the run ends
(in chunks growing 4x, so the work is proportional to the run) and reads it as a structured
array. The result is a plain Python ``int``/``float`` list, exactly what the token-by-token
loop returns.

Integers of *mixed* widths have no vectorised path: the token boundaries depend on every
earlier token. (Splitting them with ``re.findall`` was measured and is no faster than the
token loop, because it creates one object per token as well.)
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

# Token byte -> structured dtype (token, little-endian value) for a run of that token.
RUN_DTYPES: Final = {
    tok: np.dtype([("t", "u1"), ("v", fmt)])
    for tok, fmt in ((0x43, "i1"), (0x6A, "<i2"), (0x69, "<i4"), (0x4C, "<i8"), (0x72, "<f8"))
}
RUN_MIN: Final = 16
_PROBES: Final = {tok: bytes((tok,)) * RUN_MIN for tok in RUN_DTYPES}


def _same_token_count(data: Any, pos: int, tok: int, stride: int, n: int) -> int:
    limit = min(n, (len(data) - pos) // stride)
    count = 0
    chunk = 64
    while count < limit:
        take = min(chunk, limit - count)
        toks = np.frombuffer(data, np.uint8, take * stride, pos + count * stride)[::stride]
        bad = np.flatnonzero(toks != tok)
        if bad.size:
            return count + int(bad[0])
        count += take
        chunk *= 4
    return count


def same_width_run(data: Any, pos: int, n: int) -> tuple[list[Any], int] | None:
    """Read a run of at least RUN_MIN identical number tokens at ``pos`` (at most ``n``).

    Returns:
        ``(values, offset after the run)``, or None when there is no such run here.
    """
    tok = data[pos]
    dtype = RUN_DTYPES.get(tok)
    if dtype is None:
        return None
    stride = dtype.itemsize
    if data[pos : pos + stride * RUN_MIN : stride] != _PROBES[tok]:
        return None
    count = _same_token_count(data, pos, tok, stride, n)
    values = np.frombuffer(data, dtype, count, pos)["v"].tolist()
    return values, pos + count * stride
