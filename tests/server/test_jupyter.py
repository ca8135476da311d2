"""The Jupyter kernel on a warm pool, through jupyter_client, as a front end sees it."""

from __future__ import annotations

import sys
from pathlib import Path

from .helpers import Client, ServerProcess, idle_kernels, jupyter_first_result


def test_jupyter_kernel_on_warm_pool(main_server: ServerProcess, tmp_path: Path) -> None:
    """The Jupyter kernel is served a kernel that was already warm: no kernel process is started
    on its way, whatever the machine's speed (the time itself is measured in
    benchmarks/bench_server.py, against bare ipykernel's start in the same run)."""
    argv = [sys.executable, "-m", "wstp_jupyter.kernel", "-f", "{connection_file}",
            "--server", main_server.address]
    warm = idle_kernels(main_server.address)
    attached: set[str] = set()

    def note_attached() -> None:
        observer = Client(main_server.address)  # commands only: it never takes a kernel
        try:
            info = observer.command("GetServerInformation")
        finally:
            observer.close()
        attached.update(kid for kid, k in info["Kernels"].items() if k["Clients"])

    _, data = jupyter_first_result(argv, tmp_path, while_running=note_attached)
    assert data["text/plain"].strip() == "2"
    # Idle kernels have no clients, so a warm one with a client now is the one serving us.
    assert attached & warm, (attached, warm)
