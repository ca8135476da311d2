"""How a cell run outside the main loop is cut into its inputs (``kernel._unstored``)."""

from __future__ import annotations

from wstp_jupyter.kernel._unstored import abort_mark, guarded, parses, split_inputs
from wstp_jupyter.wxf import Expr, Symbol


def test_each_complete_line_is_an_input() -> None:
    assert split_inputs("q = 1\nq + 1") == ["q = 1", "q + 1"]
    assert split_inputs("a = 1;\n\n  b = 2;\n") == ["a = 1;", "  b = 2;"]


def test_an_input_goes_on_while_it_is_incomplete() -> None:
    code = 'f[x_] :=\n  x + 1\n{1,\n 2}\n"two\nlines"\nf[2]'
    assert split_inputs(code) == ["f[x_] :=\n  x + 1", "{1,\n 2}", '"two\nlines"', "f[2]"]


def test_comments_and_blank_lines_are_no_inputs() -> None:
    assert split_inputs("(* a (* nested *) comment *)\n\n1 (* c *)\n  ") == ["1 (* c *)"]
    assert split_inputs("   \n(* c *)") == []
    assert split_inputs("") == []


def test_what_is_left_incomplete_or_invalid_is_an_input_for_the_parser_to_reject() -> None:
    assert split_inputs("1\nf[x") == ["1", "f[x"]
    assert split_inputs("]\n2") == ["]", "2"]


def test_the_requests() -> None:
    held = Expr(Symbol("ToExpression"), "1+", Symbol("InputForm"), Symbol("HoldComplete"))
    assert parses("1+") == Expr(Symbol("If"), Expr(Symbol("SyntaxQ"), "1+"), Symbol("True"),
                                Expr(Symbol("CompoundExpression"), held, Symbol("False")))
    mark = abort_mark()
    assert mark != abort_mark()
    assert guarded("x", mark) == Expr(Symbol("CheckAbort"), Expr(Symbol("ToExpression"), "x"),
                                      mark)
    assert guarded("x", mark, value=False) == Expr(
        Symbol("CheckAbort"),
        Expr(Symbol("CompoundExpression"), Expr(Symbol("ToExpression"), "x"), Symbol("Null")),
        mark,
    )
