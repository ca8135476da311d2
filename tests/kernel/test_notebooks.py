"""The notebooks run headless under nbconvert, papermill and ``wstp-jupyter tour``; values checked.

All runs start at once (separate processes, each with its own kernel), so the module costs about
one notebook's time rather than five.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
RUN_TIMEOUT = 240


def _commands(out: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "nbconvert-tour": [py, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           str(NOTEBOOKS / "tour.ipynb"), "--output-dir", str(out),
                           "--output", "nbconvert-tour.ipynb"],
        "nbconvert-two": [py, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                          str(NOTEBOOKS / "two-sessions.ipynb"), "--output-dir", str(out),
                          "--output", "nbconvert-two.ipynb"],
        "papermill-tour": [py, "-m", "papermill", str(NOTEBOOKS / "tour.ipynb"),
                           str(out / "papermill-tour.ipynb"), "-p", "n", "5", "--no-progress-bar"],
        "papermill-two": [py, "-m", "papermill", str(NOTEBOOKS / "two-sessions.ipynb"),
                          str(out / "papermill-two.ipynb"), "-p", "k", "10", "--no-progress-bar"],
        "tour-command": [py, "-m", "wstp_jupyter.cli", "tour", "--output",
                         str(out / "tour-command.ipynb")],
        "tour-bad": [py, "-m", "wstp_jupyter.cli", "tour", "--notebook", str(out / "bad.ipynb"),
                     "--output", str(out / "tour-bad.ipynb")],
    }


@pytest.fixture(scope="module")
def runs(artifact_dir: Path) -> Iterator[dict[str, tuple[subprocess.CompletedProcess[str], Any]]]:
    out = artifact_dir / "notebooks"
    out.mkdir(exist_ok=True)
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + + * 2")])
    bad.metadata["kernelspec"] = {"name": "wolfram-wstp", "display_name": "WL",
                                  "language": "wolfram"}
    nbformat.write(bad, out / "bad.ipynb")
    # Output goes to files: pipes read one after the other could fill up and stall a run.
    procs = {}
    for name, cmd in _commands(out).items():
        with open(out / f"{name}.stdout", "w") as so, open(out / f"{name}.stderr", "w") as se:
            procs[name] = subprocess.Popen(cmd, cwd=out, stdout=so, stderr=se, text=True)
    done: dict[str, tuple[subprocess.CompletedProcess[str], Any]] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        for name, proc in procs.items():
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            stdout = (out / f"{name}.stdout").read_text()
            stderr = (out / f"{name}.stderr").read_text()
            result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
            path = out / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4) if path.exists() else None
            done[name] = (result, nb)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    yield done


def outputs(nb: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(c.source, c.outputs) for c in nb.cells if c.cell_type == "code"]


def value(nb: Any, source_start: str) -> str:
    """The text/plain result of the (last) code cell whose source starts with ``source_start``."""
    found = [outs for src, outs in outputs(nb) if src.startswith(source_start)]
    assert found, f"no cell starting with {source_start!r}"
    results = [o for o in found[-1] if o["output_type"] == "execute_result"]
    assert results, f"cell {source_start!r} has no result: {found[-1]}"
    return str(results[-1]["data"]["text/plain"])


def stream(nb: Any, source_start: str, name: str) -> str:
    found = [outs for src, outs in outputs(nb) if src.startswith(source_start)]
    return "".join(o["text"] for o in found[-1] if o["output_type"] == "stream"
                   and o["name"] == name)


def assert_clean(run: tuple[subprocess.CompletedProcess[str], Any]) -> Any:
    result, nb = run
    assert result.returncode == 0, result.stderr[-3000:]
    assert nb is not None
    errors = [o for _, outs in outputs(nb) for o in outs if o["output_type"] == "error"]
    assert errors == []
    return nb


def test_packaged_tour_is_the_repository_tour() -> None:
    packaged = REPO / "wstp_jupyter" / "kernel" / "notebooks" / "tour.ipynb"
    assert packaged.read_bytes() == (NOTEBOOKS / "tour.ipynb").read_bytes()


def test_notebooks_have_parameters_cells() -> None:
    for name in ("tour.ipynb", "two-sessions.ipynb"):
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), name


def check_tour(nb: Any, n: int, factorial: str) -> None:
    assert value(nb, "2^100") == "1267650600228229401496703205376"
    assert value(nb, "N[Pi, 30]") == "3.14159265358979323846264338328"
    assert value(nb, "n!") == factorial
    assert value(nb, "Expand") == "x^3 + 3 x^2 y + 3 x y^2 + y^3"
    assert "Cos[x]" in value(nb, "Integrate[x^2")
    assert value(nb, "Solve") == "{{x -> 2}, {x -> 3}}"
    assert stream(nb, "Do[Print", "stdout") == "step 1\nstep 2\nstep 3\n"
    assert stream(nb, "1/0", "stderr") == "Power::infy: Infinite expression 1/0 encountered.\n"
    assert value(nb, "1/0") == "ComplexInfinity"
    plot = next(o for src, outs in outputs(nb) if src.startswith("Plot") for o in outs)
    assert "<svg" in plot["data"]["image/svg+xml"] and "image/png" in plot["data"]
    surface = next(o for src, outs in outputs(nb) if src.startswith("Plot3D") for o in outs)
    assert surface["data"]["text/plain"] == "-Graphics3D-"
    assert "<path" in surface["data"]["image/svg+xml"] and "image/png" in surface["data"]
    image = next(o for src, outs in outputs(nb) if src.startswith("Image") for o in outs)
    assert "image/png" in image["data"]
    tex = next(o for src, outs in outputs(nb) if src.startswith("Sqrt") for o in outs)
    assert "sqrt" in tex["data"]["text/latex"]
    assert value(nb, "6 * 7") == "42"
    assert value(nb, "% + 1") == "43"
    assert value(nb, "%% / 2") == "21"
    counts = [o["execution_count"] for _, outs in outputs(nb) for o in outs
              if o["output_type"] == "execute_result"]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    del n


def check_two_sessions(nb: Any, k: int, factorial: int) -> None:
    assert value(nb, "LinkRead[kernelB]") == "InputNamePacket[In[1]:= ]"
    assert value(nb, "pidA") == "{True, True}"
    assert value(nb, "LinkWrite[kernelB, Unevaluated[EnterTextPacket") == (
        "{OutputNamePacket[Out[1]= ], ReturnTextPacket[{1, 4, 9, 16, 25}], "
        "InputNamePacket[In[2]:= ]}"
    )
    assert value(nb, "LinkWrite[kernelB, Unevaluated[EvaluatePacket[Total") == (
        "{ReturnPacket[55], False}"
    )
    assert value(nb, "link = LinkCreate") == f"ReturnPacket[{{{factorial}, {k}}}]"
    assert value(nb, "LinkWrite[kernelB, Unevaluated[EvaluatePacket[LinkWrite") == "Hold[2 + 2]"
    assert value(nb, "ReleaseHold") == "4"
    assert value(nb, "LinkClose[link]") == "{}"


def test_nbconvert_tour(runs: dict[str, Any]) -> None:
    check_tour(assert_clean(runs["nbconvert-tour"]), 20, "2432902008176640000")


def test_papermill_tour_with_parameters(runs: dict[str, Any]) -> None:
    nb = assert_clean(runs["papermill-tour"])
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    check_tour(nb, 5, "120")


def test_nbconvert_two_sessions(runs: dict[str, Any]) -> None:
    check_two_sessions(assert_clean(runs["nbconvert-two"]), 15, 1307674368000)


def test_papermill_two_sessions_with_parameters(runs: dict[str, Any]) -> None:
    check_two_sessions(assert_clean(runs["papermill-two"]), 10, 3628800)


def test_tour_command(runs: dict[str, Any]) -> None:
    result, nb = runs["tour-command"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "0 errors" in result.stdout and "written to" in result.stdout
    check_tour(nb, 20, "2432902008176640000")


def test_tour_command_reports_failures(runs: dict[str, Any], tmp_path: Path) -> None:
    result, nb = runs["tour-bad"]
    assert result.returncode == 1
    assert "1 errors" in result.stdout and "SyntaxError" in result.stderr
    assert nb is not None  # the executed notebook is written even when a cell fails
    missing = subprocess.run(
        [sys.executable, "-m", "wstp_jupyter.cli", "tour", "--notebook", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert missing.returncode == 2 and "no such notebook" in missing.stderr
