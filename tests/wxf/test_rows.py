"""The decoder's row readers: tables of same-shaped calls decode exactly like anything else.

Each case builds a list of calls whose shape changes somewhere (argument kinds, integer widths,
string lengths, heads, nesting) and checks that decoding gives back exactly what was encoded,
whether or not a specialised reader took part, and that malformed tables still fail cleanly.
"""

from __future__ import annotations

import random

import pytest

from wstp_jupyter import wxf
from wstp_jupyter.wxf import WXFDecodeError, wl
from wstp_jupyter.wxf._rows import MAX_ARGS, row_reader, shape

f, g = wl.f, wl.g

TABLES = {
    "int widths change": [f(i, "s", 0.5) for i in (1, -1, 200, -300, 70_000, 2**40, 5, -(2**62))],
    "kinds change": [f(1, "a", 1.5), f(2, "b", 2.5), f("x", 2, 1.5), f(4, "d", 5.5)],
    "long string interrupts": [f(1, "a"), f(2, "b"), f(3, "x" * 300), f(4, "d"), f(5, "é✓")],
    "symbols and booleans": [f(wl.x, True), f(wl.y, False), f(wl.z, None), f(wl.x, True)] * 3,
    "nested argument interrupts": [f(1, 2), f(2, 3), f(g(1), 4), f(4, 5), f(5, 6)],
    "head changes": [f(1, 2), f(2, 3), g(1, 2), g(2, 3), f(3, 4)],
    "arity changes": [f(1, 2), f(2, 3), f(1, 2, 3), f(4, 5), f(6)],
    "many arguments": [f(*range(i, i + MAX_ARGS)) for i in range(5)]
    + [f(*range(i, i + MAX_ARGS + 1)) for i in range(5)],
    "inside a call head": [wl.h(f(1, 2), f(3, 4), f(5, 6)), f(7, 8)],
    # The last call with a symbol head is the compound head h[1, 1], not the row h[1, 1][2]:
    # rows after it must not be read with the outer call's shape (or the other way round).
    "after a compound head": [wl.h(1, 1)(2), wl.h(3, 4), 0, wl.h(1)(2, 3), wl.h(5), 6],
    "subscripted head then plain rows": [
        wl.Subscript(wl.x, 1)(wl.t), wl.Subscript(wl.x, 2), wl.Subscript(wl.x, 3),
        wl.Subscript(wl.x, 4),
    ],
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_tables_round_trip(name: str) -> None:
    value = TABLES[name]
    doc = wxf.dumps(value)
    assert wxf.loads(doc) == value
    # Also through the general decoder: small ``bytes`` documents take the short path, while a
    # bytearray, a long document and the incremental Decoder do not.
    assert wxf.loads(bytearray(doc)) == value
    padded = [*value, "pad" * 200]
    assert wxf.loads(wxf.dumps(padded)) == padded
    decoder = wxf.Decoder()
    decoder.feed(doc + wxf.dumps("next"))
    assert decoder.next() == value
    assert decoder.next() == "next"


def test_large_table_round_trips() -> None:
    value = [f(i, f"s{i}", 1.5 * i, wl.x) for i in range(5000)]
    assert wxf.loads(wxf.dumps(value)) == value


@pytest.mark.parametrize("cut", [1, 3, 7, 12])
def test_truncated_table_is_a_decode_error(cut: int) -> None:
    data = wxf.dumps([f(i, f"s{i}", 1.5 * i) for i in range(200)])
    with pytest.raises(WXFDecodeError, match="truncated"):
        wxf.loads(data[:-cut])


def test_limits_still_apply_to_rows() -> None:
    data = wxf.dumps([f(i, "s" * 100) for i in range(100)])
    with pytest.raises(wxf.WXFLimitError):
        wxf.loads(data, limits=wxf.Limits(max_length=50))


def test_shape_and_cache() -> None:
    assert shape((1, "a", 1.5, wl.x, True, None)) == (
        "int", "str", "real", "symbol", "symbol", "symbol"
    )  # fmt: skip
    assert shape(()) is None
    assert shape((g(1),)) is None
    assert shape(tuple(range(MAX_ARGS + 1))) is None
    assert row_reader(("int", "str")) is row_reader(("int", "str"))


# Table-like documents: runs of calls that share heads and shapes, with compound heads, nested
# calls and plain atoms mixed in -- the inputs where bulk row reading can go wrong. Generated
# from a fixed seed, so every run checks the same 3000 documents.
_ATOMS = [0, 1, -7, 300, -70_000, 2**40, 1.5, -0.25, "", "ab", "é", wl.x, wl.y, True, None]
_HEADS = [wl.f, wl.h, wl.h, wl.h(1, 1), wl.h(1), wl.h(wl.x, "s")]


def _table(rng: random.Random) -> list[object]:
    def call() -> object:
        return rng.choice(_HEADS)(*rng.choices(_ATOMS, k=rng.randrange(4)))

    items: list[object] = []
    for _ in range(rng.randrange(2, 30)):
        pick = rng.random()
        items.append(call() if pick < 0.75 else wl.f(call()) if pick < 0.85 else rng.choice(_ATOMS))
    return items


def test_generated_tables_round_trip_through_the_general_decoder() -> None:
    rng = random.Random(20261123)
    for _ in range(3000):
        value = _table(rng)
        doc = wxf.dumps(value)
        assert wxf.loads(bytearray(doc)) == value  # bytearray: never the small-document path
        assert wxf.loads(doc) == value
