"""Kernelspecs, logos, language_info and ``wstp-jupyter install`` (no kernel process needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from PIL import Image

from wstp_jupyter.kernel import KERNELSPEC_NAMES, LANGUAGE_INFO, kernel_json
from wstp_jupyter.kernel.install import install_kernelspecs, main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", KERNELSPEC_NAMES)
def test_repository_kernelspec_matches_generated(name: str) -> None:
    folder = REPO / "kernelspec" / name
    assert json.loads((folder / "kernel.json").read_text()) == kernel_json(name)
    for size in (32, 64):
        with Image.open(folder / f"logo-{size}x{size}.png") as image:
            assert image.size == (size, size)
            assert image.mode == "RGBA"
    svg = (folder / "logo-svg.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_kernelspec_contents() -> None:
    local = kernel_json("wolfram-wstp")
    assert local["argv"] == ["python", "-m", "wstp_jupyter.kernel", "-f", "{connection_file}"]
    assert local["interrupt_mode"] == "message"
    assert local["display_name"] == "Wolfram Language (Mathics3)"
    server = kernel_json("wolfram-wstpserver")
    assert server["argv"][-2:] == ["--server", "31415@127.0.0.1"]
    assert server["display_name"] == "Wolfram Language (wstpserver)"
    with pytest.raises(KeyError):
        kernel_json("nope")


def test_language_info() -> None:
    assert LANGUAGE_INFO["file_extension"] == ".wl"
    assert LANGUAGE_INFO["pygments_lexer"] == "mathematica"
    assert LANGUAGE_INFO["codemirror_mode"] == "mathematica"
    assert LANGUAGE_INFO["mimetype"]
    from pygments.lexers import get_lexer_by_name

    assert get_lexer_by_name(LANGUAGE_INFO["pygments_lexer"]) is not None


def test_kernelspecs_are_registered() -> None:
    # pip install (editable or not) puts both specs into share/jupyter/kernels.
    specs = KernelSpecManager().find_kernel_specs()
    for name in KERNELSPEC_NAMES:
        assert name in specs, f"{name} not installed; run `pip install -e . --no-deps`"


def test_install_into_prefix(tmp_path: Path) -> None:
    paths = install_kernelspecs(prefix=str(tmp_path), executable="/opt/py/bin/python")
    assert sorted(Path(p).name for p in paths) == sorted(KERNELSPEC_NAMES)
    for name in KERNELSPEC_NAMES:
        folder = tmp_path / "share" / "jupyter" / "kernels" / name
        spec = json.loads((folder / "kernel.json").read_text())
        assert spec["argv"][0] == "/opt/py/bin/python"
        assert {p.name for p in folder.iterdir()} == {
            "kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"
        }


def test_install_cli_rename_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--prefix", str(tmp_path), "--name", "wl-test"]) == 0
    folder = tmp_path / "share" / "jupyter" / "kernels" / "wl-test"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["display_name"].endswith("[wl-test]")
    assert "installed kernelspec wl-test" in capsys.readouterr().out
    with pytest.raises(ValueError, match="renames one kernelspec"):
        install_kernelspecs(prefix=str(tmp_path), rename="x")
    with pytest.raises(ValueError, match="unknown kernelspec"):
        install_kernelspecs(prefix=str(tmp_path), names=["bogus"])


def test_install_via_cli_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wstp_jupyter.cli", "install", "--prefix", str(tmp_path),
         "--only", "wolfram-wstpserver"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    kernels = tmp_path / "share" / "jupyter" / "kernels"
    assert [p.name for p in kernels.iterdir()] == ["wolfram-wstpserver"]
