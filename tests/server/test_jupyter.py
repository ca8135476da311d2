"""The Jupyter kernel on a warm pool, through jupyter_client, as a front end sees it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from tests.kernel.conftest import execute, shell_request, start_kernel_with_options

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


def test_quit_on_a_server_kernel_starts_afresh(main_server: ServerProcess, tmp_path: Path) -> None:
    """Quit[] / Exit[n] end the server's kernel as they end a local one: a note, no error, and
    the next cell runs (and is evaluated) in a fresh kernel from In[1]."""
    km, kc = start_kernel_with_options(tmp_path, "--server", main_server.address)
    try:
        assert execute(kc, "serverQuitValue = 1", timeout=120).status == "ok"
        for code in ("Quit[]", "Exit[3]"):
            ended = execute(kc, code, timeout=60)
            assert ended.status == "ok", ended.reply
            assert ended.results == [] and not ended.of_type("error")
            note = ended.stream("stderr")
            assert "quit" in note.lower() and ("exit code 3" in note) == (code == "Exit[3]")
            assert ended.reply["content"]["execution_count"] == 0
            fresh = execute(kc, "{serverQuitValue, $Line}", timeout=120)
            assert fresh.status == "ok", fresh.reply
            # Evaluated, in a fresh kernel (a pool kernel kept alive may have served a client
            # before: its $Line goes on from there).
            value, line = fresh.plain()[0].strip("{}").split(", ")
            assert value == "serverQuitValue"
            assert fresh.reply["content"]["execution_count"] == int(line)
            assert execute(kc, "serverQuitValue = 2").plain() == ["2"]
        # The fresh kernel's preemptive link serves completion too.
        complete = shell_request(kc, kc.complete("serverQuit", 10), timeout=60)["content"]
        assert "serverQuitValue" in complete["matches"], complete
        # A kernel killed between cells is no quit: the next cell says it died, and is not
        # silently dropped; the one after runs in a fresh kernel.
        os.kill(int(execute(kc, "$ProcessID").plain()[0]), signal.SIGKILL)
        died = execute(kc, "serverQuitValue", timeout=60)
        assert died.status == "error" and died.reply["content"]["ename"] == "KernelDied"
        assert "signal 9" in died.reply["content"]["evalue"]
        assert execute(kc, "serverQuitValue", timeout=120).plain() == ["serverQuitValue"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
