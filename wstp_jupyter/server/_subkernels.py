"""Pools that serve parallel subkernels (``ParallelKernels`` / ``ParallelKernelDefault``).

A master kernel's ``LaunchKernels["wstp://host:port/pool"]`` opens a link to the server and sends
``WSTPServer`ConnectPool[pool, "Parallel" -> True]`` (no pool name: the server's parallel
default). The server then:

* picks the pool: the named one, which must be marked ``ParallelKernels``, or else the pool marked
  ``ParallelKernelDefault``, or else the first pool marked ``ParallelKernels``; a clear
  ``Failure`` otherwise (no such pool, or a pool that does not serve subkernels);
* hands out a warm kernel of that pool exactly as for any client, but never keeps it alive: a
  subkernel carries the master's definitions, so when its master closes it (``CloseKernel``) or
  goes away, the kernel is closed and the pool warms a fresh one;
* marks it as a subkernel, which ``GetServerInformation[]`` shows (``"Subkernel" -> True`` per
  kernel; ``"ParallelKernels"`` / ``"ParallelKernelDefault"`` per pool).

``ParallelKernelDefault: true`` implies ``ParallelKernels: true`` (a default parallel pool that
refused parallel kernels would make no sense); more than one ``ParallelKernelDefault`` pool is a
configuration error (``_config``).
"""

from __future__ import annotations

from wstp_jupyter.server._config import PoolConfig, ServerConfig
from wstp_jupyter.server._errors import ServerCommandError


def serves_subkernels(pool: PoolConfig) -> bool:
    """Whether ``pool`` hands out parallel subkernels."""
    return pool.parallel_kernels or pool.parallel_kernel_default


def default_parallel_pool(config: ServerConfig) -> PoolConfig | None:
    """The pool used by ``wstp://host`` URLs that name no pool."""
    marked = [p for p in config.pools if p.parallel_kernel_default]
    if marked:
        return marked[0]
    return next((p for p in config.pools if p.parallel_kernels), None)


def parallel_pool(config: ServerConfig, name: str | None) -> PoolConfig:
    """The pool a ``ConnectPool[name, "Parallel" -> True]`` takes a subkernel from.

    Raises:
        ServerCommandError: no such pool, it does not serve subkernels, or none does.
    """
    if name is None:
        pool = default_parallel_pool(config)
        if pool is None:
            raise ServerCommandError(
                "WSTPServer`ConnectPool: no pool of this server serves parallel kernels (mark one "
                "with \"ParallelKernels\": true)")
        return pool
    pool = config.pool(name)
    if pool is None:
        names = ", ".join(p.name for p in config.pools)
        raise ServerCommandError(f"WSTPServer`ConnectPool: no pool named {name!r} (pools: {names})")
    if not serves_subkernels(pool):
        raise ServerCommandError(
            f"WSTPServer`ConnectPool: pool {name!r} does not serve parallel kernels (its "
            "configuration lacks \"ParallelKernels\": true)")
    return pool



def pool_information(config: ServerConfig, pool: PoolConfig) -> dict[str, object]:
    """The parallel entries of a pool in ``GetServerInformation[]``."""
    default = default_parallel_pool(config)
    return {"ParallelKernels": serves_subkernels(pool),
            "ParallelKernelDefault": default is not None and default.name == pool.name}


__all__ = ["default_parallel_pool", "parallel_pool", "pool_information", "serves_subkernels"]
