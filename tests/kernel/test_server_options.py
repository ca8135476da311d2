"""The Jupyter kernel on a wstpserver: --server, --profile reattach, restart, clear failures.

A real ``wstpserver`` child process on a free loopback port serves a warm pool; Jupyter kernels
are started through jupyter_client from temporary kernelspecs whose argv carries the options.
Profiles are written under a temporary ``JUPYTER_DATA_DIR``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_for
from tests.kernel.conftest import execute, start_kernel_with_options, stop_kernel
from tests.server.helpers import ServerProcess

CONFIG = {"Pools": {"Default": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 3}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(CONFIG, tmp_path_factory.mktemp("kernel-server"))
    yield proc
    proc.stop()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folder))
    return folder


def test_profile_reattaches_to_the_same_kernel(
    server: ServerProcess, tmp_path: Path, data_dir: Path
) -> None:
    options = ("--server", server.address, "--profile", "work")
    km, kc = start_kernel_with_options(tmp_path, *options)
    try:
        assert execute(kc, "profileValue = 42; $ProcessID", timeout=120).status == "ok"
        pid = execute(kc, "$ProcessID").plain()[0]
        # Displays travel on the main link: through the server too, in order with Print.
        run = execute(kc, "Print[1]; WSTPJupyter`Display[y]; Print[2]; PrintTemporary[t]")
        assert [m["msg_type"] for m in run.messages] == [
            "stream", "display_data", "stream", "display_data", "update_display_data"]
    finally:
        stop_kernel(km, kc)  # a plain shutdown keeps the profile's kernel
    saved = json.loads((data_dir / "wstp_jupyter" / "profiles" / "work.json").read_text())
    assert saved["kernel_id"]

    km, kc = start_kernel_with_options(tmp_path, *options)
    try:
        again = execute(kc, "{profileValue, $ProcessID}", timeout=120)
        assert again.plain() == [f"{{42, {pid}}}"]
        # A restart asks for a fresh kernel, even under a profile.
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=120)
        fresh = execute(kc, "{profileValue, $ProcessID}", timeout=120)
        assert fresh.status == "ok"
        value, new_pid = fresh.plain()[0].strip("{}").split(", ")
        assert value == "profileValue" and new_pid != pid
    finally:
        stop_kernel(km, kc)  # the kept kernel ends with the module's server


def test_server_kernel_reports_its_engine_version(
    server: ServerProcess, tmp_path: Path, data_dir: Path
) -> None:
    # The pool chose the engine: language_info learns its version once the kernel is connected.
    km, kc = start_kernel_with_options(tmp_path, "--server", server.address)
    try:
        assert execute(kc, "1", timeout=120).status == "ok"
        info: dict[str, Any] = {}

        def version_known() -> bool:
            kc.kernel_info()
            info.update(kc.get_shell_msg(timeout=30)["content"])
            return bool(info["language_info"]["version"])

        wait_for(version_known, timeout=30)
        assert info["language_info"]["version"] == version("Mathics3")
        assert "Mathics3" in {link["text"] for link in info["help_links"]}
        assert "Woxi" not in {link["text"] for link in info["help_links"]}
    finally:
        stop_kernel(km, kc)


def test_no_server_gives_a_clear_error(tmp_path: Path, data_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    km, kc = start_kernel_with_options(tmp_path, "--server", f"{port}@127.0.0.1")
    try:
        run = execute(kc, "1 + 1", timeout=120)
        assert run.status == "error"
        assert run.reply["content"]["ename"] == "KernelStartError"
        assert f"{port}@127.0.0.1" in run.reply["content"]["evalue"]
        assert len(run.of_type("error")) == 1
    finally:
        stop_kernel(km, kc)
