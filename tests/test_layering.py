"""Layering rules, checked on the source: the I/O-free layers import no I/O modules, and no
layer imports a layer above it (wxf <- link <- engine/server/kernel <- cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "wstp_jupyter"
FORBIDDEN_IO = {"socket", "asyncio", "subprocess", "threading", "selectors"}
# The protocol core of the link package: everything that is not an I/O adapter.
LINK_CORE = (
    "_connection.py",
    "_constants.py",
    "_errors.py",
    "_events.py",
    "_frames.py",
    "_inbox.py",
    "_names.py",
    "_packets.py",
    "_state.py",
    "_tokens.py",
)
RANK = {"wxf": 0, "link": 1, "engine": 2, "server": 2, "kernel": 2, "cli": 3}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a source file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(PKG.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{alias.name}" for alias in node.names)
    return names


def io_free_files() -> list[Path]:
    files = sorted((PKG / "wxf").glob("*.py"))
    files += [PKG / "link" / name for name in LINK_CORE]
    return files


@pytest.mark.parametrize("path", io_free_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_io_free_layers_import_no_io(path: Path) -> None:
    assert path.exists(), f"{path} is listed as protocol core but does not exist"
    bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN_IO}
    assert not bad, f"{path.relative_to(PKG.parent)} imports {sorted(bad)}"


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "wstp_jupyter" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in RANK else None


def all_files() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if layer_of(_module(p)) is not None)


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PKG.parent).with_suffix("").parts)


@pytest.mark.parametrize("path", all_files(), ids=lambda p: str(p.relative_to(PKG)))
def test_lower_layers_never_import_higher_ones(path: Path) -> None:
    own = layer_of(_module(path))
    assert own is not None
    for mod in imported_modules(path):
        other = layer_of(mod)
        if other is None or other == own:
            continue
        # Siblings (engine, server, kernel) share a rank; only upward imports are refused.
        assert RANK[other] <= RANK[own], (
            f"{_module(path)} (layer {own}) imports {mod} (layer {other})"
        )


def test_the_check_sees_imports() -> None:
    """Guard against a vacuous pass: the parser finds the imports it must judge."""
    mods = imported_modules(PKG / "link" / "_link.py")
    assert "socket" in mods and "threading" in mods
    assert "wstp_jupyter.wxf" in mods
