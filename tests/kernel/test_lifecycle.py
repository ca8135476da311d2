"""Kernel process lifecycle: death is reported and replaced, restart and shutdown leave nothing."""

from __future__ import annotations

import os
import signal
import time

from tests.helpers import wait_for
from tests.kernel.conftest import (
    engine_pids,
    execute,
    failed_request,
    iopub_until,
    pid_alive,
    start_kernel,
    stop_kernel,
)


def test_death_restart_and_shutdown_leave_no_processes() -> None:
    km, kc = start_kernel()
    try:
        assert execute(kc, "x = 1; 1 + 1", timeout=120).plain() == ["2"]
        kernel_pid = km.provisioner.process.pid
        (engine,) = engine_pids(kernel_pid)

        # Death during an evaluation: the cell fails with a clear message.
        msg_id = kc.execute("Pause[20]")
        time.sleep(0.5)  # the evaluation is running
        os.kill(engine, signal.SIGKILL)
        reply = failed_request(kc, msg_id, timeout=30)["content"]
        assert reply["status"] == "error" and reply["ename"] == "KernelDied"
        assert "killed by signal 9" in reply["evalue"]
        assert "fresh kernel" in reply["evalue"]
        assert not pid_alive(engine)

        # The next cell runs in a fresh kernel process: old definitions are gone, In[1] again.
        fresh = execute(kc, "{x, $Line}", timeout=120)
        assert fresh.status == "ok", fresh.reply["content"]
        assert fresh.plain() == ["{x, 1}"]
        assert fresh.reply["content"]["execution_count"] == 1
        (engine2,) = engine_pids(kernel_pid)
        assert engine2 != engine

        # Restart: a new Jupyter kernel process and a new kernel process; the old ones are gone.
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=120)
        # (Bounded wait: if the old kernel was slow to stop, jupyter_client killed it and its
        # kernel process notices the closed link a moment later.)
        deadline = time.monotonic() + 30
        while (pid_alive(engine2) or pid_alive(kernel_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(engine2) and not pid_alive(kernel_pid)
        restarted = execute(kc, "$Line", timeout=120)
        assert restarted.plain() == ["1"]
        kernel_pid = km.provisioner.process.pid
        (engine3,) = engine_pids(kernel_pid)
    finally:
        stop_kernel(km, kc)
    assert wait_for(lambda: not pid_alive(engine3) and not pid_alive(kernel_pid), 10)


def test_killed_jupyter_kernel_leaves_no_kernel_process() -> None:
    km, kc = start_kernel()
    try:
        assert execute(kc, "1 + 1", timeout=120).plain() == ["2"]
        kernel_pid = km.provisioner.process.pid
        (engine,) = engine_pids(kernel_pid)
        # SIGKILL: no shutdown handler runs. The kernel process notices its main link closing.
        os.kill(kernel_pid, signal.SIGKILL)
        assert wait_for(lambda: not pid_alive(engine), 15), "kernel process orphaned"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_interrupt_while_the_kernel_process_starts_cancels_the_cell() -> None:
    # A fresh Jupyter kernel boots its kernel process in the background (a few seconds); a
    # cell sent meanwhile waits for it. Interrupting then cancels the cell before it is sent.
    km, kc = start_kernel()
    try:
        msg_id = kc.execute("While[True]")
        # The cell has reached the kernel (execute_input is published first).
        iopub_until(kc, msg_id, lambda m: m["msg_type"] == "execute_input")
        km.interrupt_kernel()
        reply = failed_request(kc, msg_id, timeout=120)["content"]
        assert reply["status"] == "error" and reply["ename"] == "Aborted"
        assert "before the evaluation started" in reply["evalue"]
        after = execute(kc, "$Line", timeout=120)
        assert after.plain() == ["1"]  # the cancelled cell never reached the kernel: In[1] again
        assert after.reply["content"]["execution_count"] == 1
    finally:
        stop_kernel(km, kc)
