"""Kernel options: where the Jupyter kernel gets its Wolfram kernel from.

Options come from the kernelspec's argv (``--server``, ``--pool``, ``--kernel-id``, ``--profile``,
``--discover``) and, for anything not given there, from the environment (``WSTP_JUPYTER_SERVER``
and friends), so one kernelspec can be retargeted per shell. Everything else on the command line
(``-f {connection_file}``, ipykernel's own flags) is passed through to ipykernel untouched.

A *profile* names a long-lived wstpserver kernel: its ID is remembered (by
:func:`wstp_jupyter.server.client.attach`, in ``<jupyter data dir>/wstp_jupyter/profiles/``) so
that reopening a notebook with the same profile reattaches to the same kernel, as WSTPServer's
profiles do. Here the name is only validated.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wstp_jupyter.kernel._errors import OptionsError

ENV_PREFIX = "WSTP_JUPYTER_"
ENGINES = ("mathics3", "woxi")
ENGINE_NAMES = {"mathics3": "Mathics3", "woxi": "Woxi"}
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, kw_only=True)
class KernelOptions:
    """Where to get the Wolfram kernel.

    With no ``server`` and no ``discover`` the Jupyter kernel launches a local kernel process
    (``wstp_jupyter.engine``); otherwise it attaches to a wstpserver, optionally to one ``pool``
    or one existing ``kernel_id``. ``discover`` is ``None`` (off), ``""`` (any server found by
    DNS-SD) or a service name (``WSTPServer-Instance-<name>``).
    """

    server: str | None = None
    pool: str | None = None
    kernel_id: str | None = None
    profile: str | None = None
    discover: str | None = None
    engine: str = "mathics3"

    @property
    def uses_server(self) -> bool:
        """True when the kernel comes from a wstpserver rather than a local process."""
        return (
            self.server is not None
            or self.discover is not None
            or self.pool is not None
            or self.kernel_id is not None
        )

    def describe(self) -> str:
        """A one-line human description, used in the banner and in error messages."""
        if not self.uses_server:
            return f"local kernel process ({ENGINE_NAMES.get(self.engine, self.engine)})"
        where = self.server or (
            f"discovered server {self.discover!r}" if self.discover else "a discovered server"
        )
        parts = [f"wstpserver at {where}" if self.server else f"wstpserver: {where}"]
        if self.pool:
            parts.append(f"pool {self.pool}")
        if self.kernel_id:
            parts.append(f"kernel {self.kernel_id}")
        if self.profile:
            parts.append(f"profile {self.profile}")
        return ", ".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wstp_jupyter.kernel", add_help=False)
    parser.add_argument("--server", default=None, help="wstpserver address, e.g. 31415@127.0.0.1")
    parser.add_argument("--pool", default=None, help="wstpserver pool name")
    parser.add_argument("--kernel-id", dest="kernel_id", default=None, help="attach to kernel ID")
    parser.add_argument("--profile", default=None, help="remember/reattach the kernel by name")
    parser.add_argument(
        "--discover",
        nargs="?",
        const="",
        default=None,
        help="find a wstpserver by DNS-SD (optionally a service name)",
    )
    parser.add_argument(
        "--engine", default=None, help="evaluator of a local kernel process: mathics3 or woxi"
    )
    return parser


def parse_options(
    argv: Sequence[str], environ: Mapping[str, str] | None = None
) -> tuple[KernelOptions, list[str]]:
    """Split ``argv`` into kernel options and the arguments meant for ipykernel.

    Args:
        argv: the command line after the program name.
        environ: the environment (default ``os.environ``); ``WSTP_JUPYTER_SERVER``,
            ``WSTP_JUPYTER_POOL``, ``WSTP_JUPYTER_KERNEL_ID``, ``WSTP_JUPYTER_PROFILE`` and
            ``WSTP_JUPYTER_DISCOVER`` and ``WSTP_JUPYTER_ENGINE`` fill options missing from
            ``argv``.

    Returns:
        ``(options, rest)``, where ``rest`` keeps the order of the unrecognised arguments.

    Raises:
        OptionsError: a profile name is not a plain file-name-safe word, or the engine is not
            one of :data:`ENGINES`.
    """
    env = os.environ if environ is None else environ
    known, rest = _parser().parse_known_args(list(argv))
    values: dict[str, Any] = {}
    for field in ("server", "pool", "kernel_id", "profile", "discover"):
        value = getattr(known, field)
        if value is None:
            value = env.get(ENV_PREFIX + field.upper())
            if value is not None and field != "discover":
                value = value.strip() or None
        values[field] = value
    profile = values["profile"]
    if profile is not None and not _PROFILE_NAME.match(profile):
        raise OptionsError(
            f"invalid profile name {profile!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64 characters)"
        )
    engine = known.engine or env.get(ENV_PREFIX + "ENGINE", "").strip() or "mathics3"
    engine = engine.lower()
    if engine not in ENGINES:
        raise OptionsError(f"unknown engine {engine!r}: use {' or '.join(ENGINES)}")
    return KernelOptions(**values, engine=engine), rest
