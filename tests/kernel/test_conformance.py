"""jupyter_kernel_test's protocol conformance suite, with a sample for every test it has.

``clear_output`` comes from the project's ``WSTPJupyter`ClearOutput[]`` (the Wolfram Language
itself has no function that clears a cell's output).
"""

from __future__ import annotations

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel

from tests.kernel.conftest import KERNEL_NAME, STARTUP_TIMEOUT

PLOT = "Plot[Sin[x], {x, 0, 1}]"


class TestWolframKernelConformance(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "wolfram"
    file_extension = ".wl"

    code_hello_world = 'Print["hello, world"]'
    code_stderr = "1/0"  # Power::infy on stderr, and the cell still succeeds
    completion_samples = [
        {"text": "Integrat", "matches": {"Integrate"}},
        {"text": "FactorInt", "matches": {"FactorInteger"}},
        {"text": "System`Integrat", "matches": {"System`Integrate"}},
    ]
    complete_code_samples = ["1 + 1", "f[x_] := x^2", 'Print["a"]', "x = 5;"]
    incomplete_code_samples = ["Plot[Sin[x],", "f[x_] :=", '"unterminated', "(* open", "1 +"]
    invalid_code_samples = ["f[x}", "1 + ]"]
    code_generate_error = "1 + + * 2"
    code_execute_result = [
        {"code": "6*7", "result": "42"},
        {"code": "Expand[(a + b)^2]", "result": "a^2 + 2 a b + b^2"},
        {"code": "Sqrt[x]/2", "mime": "text/latex"},
        {"code": PLOT, "mime": "image/svg+xml"},
    ]
    code_display_data = [
        {"code": f"WSTPJupyter`Display[{PLOT}]", "mime": "image/svg+xml"},
        {"code": f"PrintTemporary[{PLOT}]; Pause[0.1]", "mime": "image/png"},
    ]
    code_clear_output = "WSTPJupyter`ClearOutput[]"
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Plot"
    code_page_something = "?Plot"

    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name,
                                          startup_timeout=STARTUP_TIMEOUT)
        # Wait for the kernel process so the suite's 15 s per-request timeout is about the
        # protocol, not about Mathics3's cold start.
        cls.kc.execute_interactive("1", timeout=STARTUP_TIMEOUT)
