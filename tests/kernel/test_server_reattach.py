"""The Jupyter kernel reattached (``--kernel-id``) to a server kernel that is still evaluating."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kernel.conftest import execute, start_kernel_with_options, stop_kernel
from tests.server.helpers import ServerProcess
from wstp_jupyter.server import attach
from wstp_jupyter.wxf import Expr, Symbol

CONFIG = {"Pools": {"Default": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 2,
                                "KeepAlive": True}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(CONFIG, tmp_path_factory.mktemp("reattach-server"))
    yield proc
    proc.stop()


def test_first_cell_waits_for_the_running_evaluation(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    session = attach(server.address)
    kid = session.kernel_id
    prompt = session.link.get(timeout=60)
    n = int(prompt.args[0].removeprefix("In[").removesuffix("]:= "))
    session.link.put(Expr(Symbol("EnterTextPacket"),
                          'reattachValue = 5; Print["a"]; Pause[3]; Print["b"]; 43'))
    assert session.link.get(timeout=60) == Expr(Symbol("TextPacket"), "a\n")
    session.close()  # kept alive: In[n] goes on running
    km, kc = start_kernel_with_options(tmp_path, "--server", server.address, "--kernel-id", kid)
    try:
        run = execute(kc, "reattachValue + 1", timeout=120)
        assert run.status == "ok", run.reply
        # The cell was sent only once In[n] had ended, as In[n+1] (not answered by In[n]'s
        # end); output printed by In[n] after the reattach is shown before it.
        assert run.plain() == ["6"]
        assert run.reply["content"]["execution_count"] == n + 1
    finally:
        stop_kernel(km, kc)
        closer = attach(server.address, kernel_id=kid)
        closer.close(shutdown=True)
