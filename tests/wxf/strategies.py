"""Hypothesis strategies for expression trees that round-trip exactly through WXF."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from wstp_jupyter.wxf import Association, BigReal, Expr, NumericArray, Symbol

# Names whose decoding maps to a Python value or whose head changes the decoded type.
_SPECIAL = {"True", "False", "Null", "List", "Rational", "Complex"}

names = st.from_regex(r"[A-Za-z$][A-Za-z0-9$]{0,6}", fullmatch=True).filter(
    lambda s: s not in _SPECIAL
)
symbols = st.builds(
    lambda ctx, name: Symbol(ctx + name),
    st.sampled_from(["", "Global`", "A`B`", "System`"]),
    names,
)
ints = st.one_of(
    st.integers(-200, 200),
    st.integers(-(2**64), 2**64),
    st.integers(-(10**40), 10**40),
)
floats = st.floats(allow_nan=False, allow_infinity=False)
decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
)
big_reals = st.builds(BigReal, decimals, st.integers(1, 60))
fractions = st.builds(Fraction, st.integers(-(10**20), 10**20), st.integers(1, 10**20))
complexes = st.builds(complex, floats, floats)
packable = st.sampled_from(["i1", "<i2", "<i4", "<i8", "<f4", "<f8", "<c8", "<c16"])
unsigned = st.sampled_from(["u1", "<u2", "<u4", "<u8"])
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
packed_arrays = packable.flatmap(lambda dt: hnp.arrays(np.dtype(dt), shapes))
numeric_arrays = st.one_of(packable, unsigned).flatmap(
    lambda dt: hnp.arrays(np.dtype(dt), shapes).map(NumericArray)
)

atoms = st.one_of(
    ints,
    floats,
    st.text(max_size=12),
    st.binary(max_size=12),
    symbols,
    st.sampled_from([None, True, False]),
    fractions,
    complexes,
    big_reals,
)


# Hashable keys Python does not confuse with each other (1 == 1.0 == True).
keys = st.one_of(st.text(max_size=4), st.integers(-5, 5), symbols)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.builds(lambda h, a: Expr(h, *a), symbols, st.lists(children, max_size=4)),
        st.builds(
            lambda h, a: Expr(h, *a),
            st.builds(lambda h, a: Expr(h, *a), symbols, st.lists(children, max_size=2)),
            st.lists(children, max_size=2),
        ),
        st.dictionaries(st.text(max_size=4), children, max_size=4),
        # At least one delayed rule, or the decoder would (rightly) return a dict.
        st.builds(
            lambda k, v, rest: Association([Expr(Symbol("RuleDelayed"), k, v), *rest]),
            keys,
            children,
            st.lists(st.tuples(keys, children), max_size=3),
        ),
    )


expressions = st.recursive(st.one_of(atoms, packed_arrays, numeric_arrays), _extend, max_leaves=15)

__all__ = ["Decimal", "expressions"]
