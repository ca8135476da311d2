"""papermill support: parameters written as Wolfram Language code.

papermill injects parameters as source code in the notebook's language, through a *translator*
registered for the kernel's language name (``wolfram``). papermill discovers engines, not
translators, through entry points, so this module is also registered as the ``wolfram`` papermill
engine (the ordinary nbclient engine): papermill imports engines at start-up, and importing this
module registers :class:`WolframTranslator`. ``papermill nb.ipynb out.ipynb -p n 5`` then
injects ``n = 5;``.

Values map as JSON/YAML values would in the language: strings to string literals, ``None`` to
``Null``, booleans to ``True``/``False``, floats in ``*^`` notation, lists to ``{...}`` and
dicts to associations ``<|"key" -> value|>``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from papermill.engines import NBClientEngine
from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

from wstp_jupyter.kernel._errors import KernelError
from wstp_jupyter.kernel._spec import LANGUAGE_INFO, LOCAL_KERNELSPEC, SERVER_KERNELSPEC

_SYMBOL = re.compile(r"^[A-Za-z$][A-Za-z0-9$]*$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z$][A-Za-z0-9$]*)\s*=\s*(.+?)\s*;?\s*(\(\*.*\*\))?\s*$")


class WolframTranslator(Translator):
    """Translate papermill parameters into Wolfram Language assignments."""

    @classmethod
    def translate_escaped_str(cls, str_val: Any) -> str:
        text = str(str_val)
        for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\t", "\\t")):
            text = text.replace(old, new)
        return f'"{text}"'

    @classmethod
    def translate_none(cls, val: Any) -> str:
        return "Null"

    @classmethod
    def translate_bool(cls, val: bool) -> str:
        return "True" if val else "False"

    @classmethod
    def translate_int(cls, val: int) -> str:
        return str(val)

    @classmethod
    def translate_float(cls, val: float) -> str:
        if math.isnan(val):
            return "Indeterminate"
        if math.isinf(val):
            return "Infinity" if val > 0 else "-Infinity"
        text = repr(val)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}*^{int(exponent)}"
        return text

    @classmethod
    def translate_list(cls, val: list[Any]) -> str:
        return "{" + ", ".join(cls.translate(v) for v in val) + "}"

    @classmethod
    def translate_dict(cls, val: dict[Any, Any]) -> str:
        rules = ", ".join(f"{cls.translate(k)} -> {cls.translate(v)}" for k, v in val.items())
        return "<|" + rules + "|>"

    @classmethod
    def comment(cls, cmt_str: str) -> str:
        return f"(* {cmt_str.replace('*)', '* )')} *)"

    @classmethod
    def assign(cls, name: str, str_val: str) -> str:
        """``name = value;`` -- the semicolon keeps the injected cell free of outputs.

        Raises:
            KernelError: ``name`` is not a Wolfram Language symbol name (``my_param`` is not:
                ``_`` is the pattern character).
        """
        if not _SYMBOL.match(name):
            raise KernelError(
                f"parameter name {name!r} is not a Wolfram Language symbol name; use letters "
                "and digits only (for example myParam)"
            )
        return f"{name} = {str_val};"

    @classmethod
    def inspect(cls, parameters_cell: Any) -> list[Parameter]:
        """The ``name = value`` lines of a parameters cell (``papermill --help-notebook``)."""
        found = []
        for line in str(parameters_cell.source).splitlines():
            match = _ASSIGNMENT.match(line)
            if match:
                name, value, comment = match.groups()
                help_text = (comment or "")[2:-2].strip()
                found.append(
                    Parameter(name=name, inferred_type_name="None", default=value, help=help_text)
                )
        return found


class WolframEngine(NBClientEngine):
    """papermill's nbclient engine; registered so that papermill imports this module."""


def register() -> None:
    """Register the translator for the language and both kernelspec names (idempotent)."""
    for name in (LANGUAGE_INFO["name"], LOCAL_KERNELSPEC, SERVER_KERNELSPEC):
        papermill_translators.register(name, WolframTranslator)


register()
