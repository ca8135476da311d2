"""A pool of kernels: keeping MinimumKernelNumber warm, handing them out, staying in bounds.

The pool counts every live kernel it started (starting, initializing, idle, attached, kept
alive) against ``MaximumKernelNumber`` and keeps ``MinimumKernelNumber`` of them warm -- started
and initialized, or on the way -- so a client is served by a kernel that is already running.
When a kernel is handed out (or dies) a replacement starts at once, within the maximum.

:meth:`Pool.acquire` takes an idle kernel, else a kept-alive kernel that is not reserved, else
waits for a warming kernel (starting one more if every warming kernel is already promised to an
earlier waiter and the maximum allows), else fails with a :class:`ServerCommandError` that says
the pool is exhausted. Launch failures are logged with their reason; after
:data:`MAX_FAILED_LAUNCHES` in a row the pool stops replenishing by itself (a client's request
still tries once more) so a broken ``KernelPath`` cannot turn into a fork loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from wstp_jupyter.server._config import PoolConfig
from wstp_jupyter.server._errors import ServerCommandError, ServerError
from wstp_jupyter.server._kernel import ManagedKernel
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._model import AVAILABLE, COUNTED, WARMING, KernelState

MAX_FAILED_LAUNCHES = 3


class Pool:
    """The kernels of one configured pool."""

    def __init__(self, config: PoolConfig, *, allow_silent_replacement: bool,
                 on_exit: Callable[[ManagedKernel], None],
                 on_new: Callable[[ManagedKernel], None]) -> None:
        self.config = config
        self.name = config.name
        self.kernels: list[ManagedKernel] = []
        self.last_error = ""
        self._silent = allow_silent_replacement
        self._on_exit = on_exit
        self._on_new = on_new
        self._failures = 0
        self._waiters = 0
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- counting ----------------------------------------------------------------------------

    def _in(self, states: frozenset[KernelState]) -> list[ManagedKernel]:
        return [k for k in self.kernels if k.state in states]

    @property
    def counted(self) -> int:
        return len(self._in(COUNTED))

    @property
    def warming(self) -> int:
        return len(self._in(WARMING))

    @property
    def starting(self) -> int:
        return len(self._in(frozenset({KernelState.STARTING, KernelState.INITIALIZING})))

    def _pick(self) -> ManagedKernel | None:
        idle = [k for k in self._in(frozenset({KernelState.IDLE})) if not k.reserved]
        if idle:
            return idle[0]
        # A kept-alive kernel still working for a client that left is not free.
        kept = [k for k in self._in(AVAILABLE) if not k.reserved and not k.clients
                and k.main is not None and k.main.idle]
        return kept[0] if kept else None

    # -- starting ----------------------------------------------------------------------------

    def _spawn(self) -> ManagedKernel:
        kernel = ManagedKernel(
            command=self.config.kernel_command, pool=self.name,
            keep_alive=self.config.keep_alive, allow_silent_replacement=self._silent,
            initialization_code=self.config.initialization_code,
            initialization_file=self.config.initialization_file, on_exit=self._exited)
        self.kernels.append(kernel)
        self._on_new(kernel)
        task = asyncio.create_task(self._launch(kernel), name=f"launch-{kernel.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return kernel

    async def _launch(self, kernel: ManagedKernel) -> None:
        try:
            await kernel.launch()
        except ServerError as exc:
            if self._closed or kernel.state in (KernelState.CLOSING, KernelState.CLOSED):
                self._forget(kernel)
                return  # closed while it started (shutdown, CloseKernel): not a failure
            self._failures += 1
            self.last_error = str(exc)
            logger.error("pool %s: a kernel failed to start: %s", self.name, exc)
            self._forget(kernel)
        except asyncio.CancelledError:
            # launch() has stopped the process already; this settles the kernel's state.
            await kernel.close(grace=0.5)
            raise
        else:
            self._failures = 0
            logger.debug("pool %s: kernel %s ready (pid %s)", self.name, kernel.id, kernel.pid)
        async with self._changed:
            self._changed.notify_all()

    def _forget(self, kernel: ManagedKernel) -> None:
        if kernel in self.kernels:
            self.kernels.remove(kernel)
        self._on_exit(kernel)

    def replenish(self) -> None:
        """Start kernels until MinimumKernelNumber are warm, within MaximumKernelNumber."""
        if self._closed or self._failures >= MAX_FAILED_LAUNCHES:
            return
        while self.warming < self.config.minimum_kernel_number + self._waiters and (
                self.counted < self.config.maximum_kernel_number):
            self._spawn()

    async def wait_warm(self) -> None:
        """Wait until the first MinimumKernelNumber kernels are started (or failed)."""
        self.replenish()
        async with self._changed:
            await self._changed.wait_for(lambda: self.starting == 0)

    # -- handing out -------------------------------------------------------------------------

    async def acquire(self, timeout: float = 180.0) -> ManagedKernel:
        """A kernel for a client, attached by the caller without an ``await`` in between.

        Raises:
            ServerCommandError: the pool is at MaximumKernelNumber with no free kernel, kernels
                fail to start, or none became ready within ``timeout`` seconds.
        """
        self._waiters += 1
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    kernel = self._pick()
                    if kernel is not None:
                        return kernel
                    if self.starting < self._waiters:
                        if self.counted < self.config.maximum_kernel_number:
                            self._failures = min(self._failures, MAX_FAILED_LAUNCHES - 1)
                            self._spawn()
                        elif self.starting == 0:
                            raise ServerCommandError(
                                f"pool {self.name!r} has no free kernel: all "
                                f"{self.config.maximum_kernel_number} kernels "
                                "(MaximumKernelNumber) are in use")
                    if self._failures >= MAX_FAILED_LAUNCHES and self.starting == 0:
                        raise ServerCommandError(
                            f"pool {self.name!r} cannot start kernels: {self.last_error}")
                    await self._changed.wait()
        except TimeoutError:
            raise ServerCommandError(
                f"pool {self.name!r}: no kernel became ready within {timeout:.0f} s") from None
        finally:
            self._waiters -= 1
            self.replenish()

    def _exited(self, kernel: ManagedKernel) -> None:
        if kernel in self.kernels and kernel.state is not KernelState.STARTING:
            self.kernels.remove(kernel)
        self._on_exit(kernel)
        self.notify()

    def notify(self) -> None:
        """Wake waiters and refill the pool (a kernel was released, closed or died)."""
        self.kernels = [k for k in self.kernels if k.state not in (
            KernelState.DEAD, KernelState.CLOSED)]

        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        if not self._closed:
            task = asyncio.create_task(wake())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self.replenish()

    async def close(self) -> None:
        """Stop replenishing and close every kernel of the pool."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # The cancelled launches stop their own processes: wait for that as well, so nothing
        # outlives the pool.
        await asyncio.gather(*tasks, *(k.close() for k in list(self.kernels)),
                             return_exceptions=True)
        self.kernels.clear()
