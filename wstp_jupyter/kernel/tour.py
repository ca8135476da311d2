"""``wstp-jupyter tour``: run the tour notebook headless and save the executed copy.

The tour ships inside the package (``wstp_jupyter/kernel/notebooks/tour.ipynb``; the repository's
``notebooks/tour.ipynb`` is kept identical by a test), so the command works from a plain
``pip install .``. It runs through nbclient with the ``wolfram-wstp`` kernelspec -- the same path
JupyterLab, nbconvert and papermill take. When that kernelspec is not registered (a wheel
installed somewhere Jupyter does not look), a temporary kernelspec pointing at this interpreter
is used instead, so the tour never depends on installation details.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from wstp_jupyter.kernel._spec import LOCAL_KERNELSPEC, WOXI_KERNELSPEC

# The kernelspec that runs each engine locally (``--engine``).
ENGINE_KERNELSPECS = {"mathics3": LOCAL_KERNELSPEC, "woxi": WOXI_KERNELSPEC}


def packaged_tour() -> Path:
    """Path of the tour notebook shipped with the package."""
    return Path(str(resources.files("wstp_jupyter.kernel") / "notebooks" / "tour.ipynb"))


def _kernel_manager(kernel_name: str, tmp: str) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    manager = KernelSpecManager()
    if kernel_name not in manager.find_kernel_specs():
        if kernel_name not in ENGINE_KERNELSPECS.values():
            raise SystemExit(f"wstp-jupyter tour: no kernelspec named {kernel_name!r}")
        from wstp_jupyter.kernel.install import install_kernelspecs

        install_kernelspecs(prefix=tmp, names=[kernel_name])
        manager = KernelSpecManager(kernel_dirs=[str(Path(tmp) / "share" / "jupyter" / "kernels")])
    return KernelManager(kernel_name=kernel_name, kernel_spec_manager=manager)


def _summary(nb: Any) -> tuple[int, int, list[str]]:
    cells = [c for c in nb.cells if c.cell_type == "code"]
    outputs = sum(len(c.get("outputs", [])) for c in cells)
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(cells, 1)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return len(cells), outputs, errors


def run_tour(
    output: Path,
    *,
    notebook: Path | None = None,
    kernel_name: str = LOCAL_KERNELSPEC,
    timeout: float = 300.0,
) -> tuple[Any, list[str]]:
    """Execute the tour (or ``notebook``) and write the executed notebook to ``output``.

    Returns:
        ``(executed notebook, errors)``; ``errors`` lists failing cells (empty on success).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    source = notebook or packaged_tour()
    nb = nbformat.read(source, as_version=4)
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wstp-jupyter-tour-") as tmp:
        client = NotebookClient(
            nb,
            km=_kernel_manager(kernel_name, tmp),
            timeout=timeout,
            startup_timeout=120,
            resources={"metadata": {"path": str(Path.cwd())}},
        )
        try:
            client.execute()
        except CellExecutionError as exc:
            errors.append(str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc))
        except Exception as exc:  # a kernel that cannot start, a timeout
            errors.append(f"{type(exc).__name__}: {exc}")
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    _, _, cell_errors = _summary(nb)
    return nb, errors or cell_errors


def main(argv: Sequence[str] | None = None) -> int:
    """``wstp-jupyter tour [--output FILE] [--notebook FILE] [--kernel NAME | --engine E]
    [--timeout S]``."""
    parser = argparse.ArgumentParser(
        prog="wstp-jupyter tour",
        description="Run the tour notebook headless on a local kernel and save it.",
    )
    parser.add_argument("--output", "-o", type=Path, default=Path("tour.out.ipynb"))
    parser.add_argument("--notebook", type=Path, default=None, help="run this notebook instead")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kernel", default=None, help="kernelspec name")
    which.add_argument(
        "--engine", choices=sorted(ENGINE_KERNELSPECS), default=None,
        help="run on this engine's local kernelspec (default mathics3)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per cell")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.notebook is not None and not args.notebook.is_file():
        print(f"wstp-jupyter tour: no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    kernel_name = args.kernel or ENGINE_KERNELSPECS[args.engine or "mathics3"]
    if kernel_name == WOXI_KERNELSPEC:
        from wstp_jupyter.engine._woxi_process import MISSING_WOXI, woxi_available

        if not woxi_available():
            print(f"wstp-jupyter tour: {MISSING_WOXI}", file=sys.stderr)
            return 2
    started = time.perf_counter()
    nb, errors = run_tour(
        args.output, notebook=args.notebook, kernel_name=kernel_name, timeout=args.timeout
    )
    cells, outputs, _ = _summary(nb)
    elapsed = time.perf_counter() - started
    print(f"tour: {cells} code cells, {outputs} outputs, {len(errors)} errors in {elapsed:.1f} s")
    print(f"tour: executed notebook written to {args.output}")
    for error in errors:
        print(f"tour: error: {error}", file=sys.stderr)
    return 1 if errors else 0
