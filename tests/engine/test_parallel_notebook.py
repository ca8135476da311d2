"""notebooks/parallel.ipynb runs headless under nbconvert: the values, and the subkernel's Print
(stdout) and message (stderr) in the cell that caused them, marked with the kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]


def _outputs(nb: Any, start: str) -> list[dict[str, Any]]:
    found = [c.outputs for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    assert found, f"no cell starting with {start!r}"
    return list(found[-1])


def _value(nb: Any, start: str) -> str:
    results = [o for o in _outputs(nb, start) if o["output_type"] == "execute_result"]
    assert results, _outputs(nb, start)
    return str(results[-1]["data"]["text/plain"])


def test_parallel_notebook(artifact_dir: Path) -> None:
    out = artifact_dir / "notebooks"
    out.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         str(REPO / "notebooks" / "parallel.ipynb"), "--output-dir", str(out),
         "--output", "nbconvert-parallel.ipynb"],
        cwd=out, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    nb = nbformat.read(out / "nbconvert-parallel.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o["output_type"] == "error"]
    assert errors == []
    assert _value(nb, "LaunchKernels") == '{KernelObject[1, "local"], KernelObject[2, "local"]}'
    assert _value(nb, "{$KernelID") == "{0, {1, 2}}"
    assert _value(nb, "collatz") == "{0, 1, 7, 2, 5, 8, 16, 3, 19, 6, 14, 9}"
    assert _value(nb, "ParallelTable") == (
        "{{2, True}, {3, True}, {5, True}, {7, True}, {11, False}, {13, True}}")
    assert _value(nb, "ParallelSum") == "True"
    streams = [(o["name"], o["text"]) for o in _outputs(nb, "ParallelEvaluate[Print")
               if o["output_type"] == "stream"]
    assert streams == [
        ("stdout", "(kernel 1) hello from kernel 1\n"),
        ("stderr", "(kernel 1) Power::infy: Infinite expression 1/0 encountered.\n"),
    ]
    assert _value(nb, "jobs") == "{6, 25, 111}"
    assert _value(nb, "CloseKernels") == '{KernelObject[1, "local"], KernelObject[2, "local"]}'
