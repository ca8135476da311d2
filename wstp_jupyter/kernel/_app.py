"""The ipykernel application that runs :class:`WolframKernel`: ipykernel's, without subshells.

ipykernel 7 reads the shell socket on a thread of its own (for kernel subshells) and hands every
message to the main thread through an in-process socket, and every reply back. This kernel
already answers completion, inspection and the other service requests while a cell runs (its
own concurrent dispatch, see :meth:`WolframKernel.shell_main`), and a Wolfram kernel evaluates
one thing at a time, so subshells would add nothing; without them the shell socket is read on
the main event loop and a request reaches ``do_execute`` with two thread hand-offs less.
"""

from __future__ import annotations

from ipykernel.kernelapp import IPKernelApp


class WolframKernelApp(IPKernelApp):
    """``IPKernelApp`` whose shell channel is served on the main thread (no subshells)."""

    def init_sockets(self) -> None:
        """Bind the sockets as ipykernel does, then drop the shell-channel thread unstarted.

        With no shell-channel thread, ipykernel serves the shell socket on the main loop, does
        not advertise subshells, and answers ``create_subshell_request`` with an error.
        ipykernel 6.29 has no such thread and serves the shell socket on the main loop anyway.
        """
        super().init_sockets()
        self.shell_channel_thread = None
