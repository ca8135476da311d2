"""WSTPServer's configuration: the data model, validation and the file search path.

The file format is parsed by :mod:`._jsonc` (JSON with ``#`` comment lines and tolerated trailing
commas) into nodes that remember their lines; :mod:`._schema` checks the document against a JSON
Schema of WSTPServer's key names and types, and this module builds frozen :class:`ServerConfig` /
:class:`PoolConfig` values. Any unknown key or bad value raises :class:`ConfigError` naming the
file, the line and the dotted key, so ``wstpserver`` refuses to start on an invalid file instead
of guessing.

Search order (the first that applies wins): the ``--configuration-file`` option, the
``WSTPSERVER_CONFIGURATION_FILE`` environment variable, ``./wstpserver.conf``, the per-user file
(``~/.config/WSTPServer/wstpserver.conf`` on Linux, honouring ``XDG_CONFIG_HOME``), and finally
the built-in default: one pool ``Default`` running the embedded engine with one warm kernel.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wstp_jupyter.server._errors import ConfigError
from wstp_jupyter.server._jsonc import Node, parse
from wstp_jupyter.server._schema import validate

CONFIG_FILE_NAME = "wstpserver.conf"
#: Kernels a pool may hold when ``MaximumKernelNumber`` is absent (or ``MinimumKernelNumber`` if
#: that is larger): a bound, so that a flood of clients cannot fork kernels without limit.
DEFAULT_MAXIMUM_KERNELS = 8

def embedded_kernel_command() -> tuple[str, ...]:
    """The command that runs this project's own kernel process (Mathics3 backend)."""
    return (sys.executable, "-m", "wstp_jupyter.engine")


@dataclass(frozen=True, kw_only=True)
class PoolConfig:
    """One kernel pool.

    ``kernel_command`` is the executable plus ``KernelOptions``; the link options
    (``-wstp -linkmode connect -linkprotocol TCPIP -linkname ...``) are appended at launch.
    """

    name: str
    default: bool = False
    kernel_path: str | None = None
    kernel_options: tuple[str, ...] = ()
    initialization_code: str | None = None
    initialization_file: Path | None = None
    keep_alive: bool = False
    minimum_kernel_number: int = 1
    maximum_kernel_number: int = DEFAULT_MAXIMUM_KERNELS
    parallel_kernels: bool = False
    parallel_kernel_default: bool = False
    reserve_previously_connected_kernels: bool = False
    #: The evaluator of the embedded kernel process: ``"mathics3"`` or ``"woxi"``.
    engine: str = "mathics3"

    @property
    def kernel_command(self) -> tuple[str, ...]:
        if self.kernel_path is not None:
            return (self.kernel_path, *self.kernel_options)
        chosen = () if self.engine == "mathics3" else ("-backend", self.engine)
        return (*embedded_kernel_command(), *chosen, *self.kernel_options)


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """The whole configuration: root switches and the pools, the default pool first."""

    allow_stealing_kernels: bool = False
    allow_silent_kernel_replacement: bool = False
    enable_automatic_kernel_connection: bool = False
    send_input_name_packet_upon_kernel_connection: bool = False
    pools: tuple[PoolConfig, ...] = field(
        default_factory=lambda: (PoolConfig(name="Default", default=True),)
    )
    source: Path | None = None

    @property
    def default_pool(self) -> PoolConfig:
        return next((p for p in self.pools if p.default), self.pools[0])

    def pool(self, name: str) -> PoolConfig | None:
        return next((p for p in self.pools if p.name == name), None)


_ROOT_KEYS = {
    "AllowStealingKernels": "allow_stealing_kernels",
    "AllowSilentKernelReplacement": "allow_silent_kernel_replacement",
    "EnableAutomaticKernelConnection": "enable_automatic_kernel_connection",
    "SendInputNamePacketUponKernelConnection": "send_input_name_packet_upon_kernel_connection",
}
_POOL_KEYS = {
    "Default": "default",
    "KeepAlive": "keep_alive",
    "ParallelKernels": "parallel_kernels",
    "ParallelKernelDefault": "parallel_kernel_default",
    "ReservePreviouslyConnectedKernels": "reserve_previously_connected_kernels",
    "MinimumKernelNumber": "minimum_kernel_number",
    "MaximumKernelNumber": "maximum_kernel_number",
    "KernelPath": "kernel_path",
    "InitializationCode": "initialization_code",
    "Engine": "engine",
}


def _pool(name: str, node: Node, path: Path | None) -> PoolConfig:
    """Build one pool from a node the schema has already accepted."""
    assert isinstance(node.value, dict)
    prefix = f"Pools.{name}"
    values: dict[str, object] = {"name": name}
    base = path.parent if path is not None else Path.cwd()
    for key, child in node.value.items():
        full = f"{prefix}.{key}"
        if key in _POOL_KEYS:
            values[_POOL_KEYS[key]] = child.value
        elif key == "KernelOptions":
            if isinstance(child.value, list):
                values["kernel_options"] = tuple(str(i.value) for i in child.value)
            else:
                try:
                    values["kernel_options"] = tuple(shlex.split(str(child.value)))
                except ValueError as exc:
                    raise ConfigError(f"cannot split the options: {exc}", path=path,
                                      line=child.line, key=full) from None
        elif key == "InitializationFile":
            file = (base / Path(str(child.value)).expanduser()).resolve()
            if not file.is_file():
                raise ConfigError(f"no such file: {file}", path=path, line=child.line, key=full)
            values["initialization_file"] = file
    mini = int(values.get("minimum_kernel_number", 1))  # type: ignore[call-overload]
    if "maximum_kernel_number" not in values:
        values["maximum_kernel_number"] = max(mini, DEFAULT_MAXIMUM_KERNELS)
    elif mini > int(values["maximum_kernel_number"]):  # type: ignore[call-overload]
        raise ConfigError(
            f"MinimumKernelNumber ({mini}) is larger than MaximumKernelNumber "
            f"({values['maximum_kernel_number']})",
            path=path, line=node.key_lines.get("MinimumKernelNumber", node.line),
            key=f"{prefix}.MinimumKernelNumber",
        )
    return PoolConfig(**values)  # type: ignore[arg-type]


def config_from_node(root: Node, path: Path | None = None) -> ServerConfig:
    """Validate a parsed document and build the :class:`ServerConfig`.

    Types, ranges and key names are checked by the JSON Schema (:mod:`._schema`); the rest
    here: files that must exist, option strings that must split, the kernel-number bounds
    against each other, and at most one default pool.

    Raises:
        ConfigError: an unknown key, a value of the wrong type or range, no pools, or more than
            one pool marked ``Default``.
    """
    validate(root, path)
    assert isinstance(root.value, dict)
    values: dict[str, object] = {"source": path}
    for key, attr in _ROOT_KEYS.items():
        if key in root.value:
            values[attr] = root.value[key].value
    pools_node = root.value.get("Pools")
    if pools_node is not None:
        assert isinstance(pools_node.value, dict)
        pools = [_pool(name, node, path) for name, node in pools_node.value.items()]
        defaults = [p.name for p in pools if p.default]
        if len(defaults) > 1:
            second = pools_node.value[defaults[1]]
            raise ConfigError(
                f"more than one pool is marked Default ({', '.join(defaults)})", path=path,
                line=second.key_lines.get("Default", second.line),
                key=f"Pools.{defaults[1]}.Default",
            )
        parallel = [p.name for p in pools if p.parallel_kernel_default]
        if len(parallel) > 1:  # which pool would "wstp://host" mean?
            second = pools_node.value[parallel[1]]
            raise ConfigError(
                f"more than one pool is marked ParallelKernelDefault ({', '.join(parallel)})",
                path=path, line=second.key_lines.get("ParallelKernelDefault", second.line),
                key=f"Pools.{parallel[1]}.ParallelKernelDefault",
            )
        # The default pool first: the rest of the server treats pools[0] as the fallback.
        pools.sort(key=lambda p: not p.default)
        values["pools"] = tuple(pools)
    return ServerConfig(**values)  # type: ignore[arg-type]


def load_config(path: str | os.PathLike[str]) -> ServerConfig:
    """Read and validate a configuration file.

    Args:
        path: the file to read.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: the file cannot be read, is malformed, or holds an invalid key or value;
            the message names the file, the line and the key.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file: {exc}", path=file) from None
    return config_from_node(parse(text, file), file)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The per-user configuration file for this platform (it need not exist)."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        return Path(env.get("APPDATA", "~")).expanduser() / "WSTPServer" / CONFIG_FILE_NAME
    if sys.platform == "darwin":
        return (Path("~/Library/Application Support/WSTPServer").expanduser() / CONFIG_FILE_NAME)
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "WSTPServer" / CONFIG_FILE_NAME


def find_config_file(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path | None:
    """The configuration file the search order selects, or ``None`` for built-in defaults.

    An explicitly named file (option or environment variable) is returned even when it does not
    exist, so that loading it reports the problem instead of silently using defaults.
    """
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get("WSTPSERVER_CONFIGURATION_FILE"):
        return Path(env["WSTPSERVER_CONFIGURATION_FILE"]).expanduser()
    for candidate in ((cwd or Path.cwd()) / CONFIG_FILE_NAME, user_config_path(env)):
        if candidate.is_file():
            return candidate
    return None


def resolve_config(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerConfig:
    """Find and load the configuration by the search order (defaults if no file is found).

    Raises:
        ConfigError: the selected file is missing or invalid.
    """
    file = find_config_file(explicit, env, cwd)
    return ServerConfig() if file is None else load_config(file)
