"""papermill parameters in Wolfram Language syntax."""

from __future__ import annotations

import nbformat
import pytest
from papermill.translators import papermill_translators

from wstp_jupyter.kernel import KernelError
from wstp_jupyter.kernel.papermill import WolframTranslator


def test_registered_for_language_and_kernelspecs() -> None:
    for kernel, language in (("x", "wolfram"), ("wolfram-wstp", "x"), ("wolfram-wstpserver", "")):
        assert papermill_translators.find_translator(kernel, language) is WolframTranslator


def test_values() -> None:
    t = WolframTranslator.translate
    assert t('say "hi"\\n') == '"say \\"hi\\"\\\\n"'
    assert t(None) == "Null"
    assert (t(True), t(False)) == ("True", "False")
    assert t(10**30) == "1000000000000000000000000000000"
    assert t(2.5) == "2.5" and t(1e-20) == "1*^-20" and t(float("inf")) == "Infinity"
    assert t([1, "a", [2.0]]) == '{1, "a", {2.0}}'
    assert t({"k": 1, "m": None}) == '<|"k" -> 1, "m" -> Null|>'


def test_codify_and_bad_names() -> None:
    code = WolframTranslator.codify({"n": 5, "label": "x"})
    assert code == '(* Parameters *)\nn = 5;\nlabel = "x";\n'
    with pytest.raises(KernelError, match="not a Wolfram Language symbol"):
        WolframTranslator.codify({"my_param": 1})


def test_inspect_parameters_cell() -> None:
    cell = nbformat.v4.new_code_cell('n = 20 (* how many *)\nlabel = "a";\nPrint[n]')
    params = WolframTranslator.inspect(cell)
    assert [(p.name, p.default, p.help) for p in params] == [
        ("n", "20", "how many"), ("label", '"a"', "")
    ]
