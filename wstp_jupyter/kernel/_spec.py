"""What Jupyter is told about the kernel: kernelspecs and ``language_info``.

One source of truth for both kernelspecs (``kernelspec/*/kernel.json`` in the repository is
generated from :func:`kernel_json`, and a test keeps them equal) and for the ``language_info``
reported in ``kernel_info_reply``. The pygments lexer and CodeMirror mode are both
``mathematica``: Pygments' ``MathematicaLexer`` highlights exported HTML and JupyterLab's
legacy-mode registry maps ``mathematica`` (and the ``text/x-mathematica`` MIME type) to its
Mathematica mode, so cells are highlighted in the browser too.
"""

from __future__ import annotations

from typing import Any

from wstp_jupyter import __version__

LOCAL_KERNELSPEC = "wolfram-wstp"
SERVER_KERNELSPEC = "wolfram-wstpserver"
WOXI_KERNELSPEC = "wolfram-woxi"
KERNELSPEC_NAMES: tuple[str, ...] = (LOCAL_KERNELSPEC, SERVER_KERNELSPEC, WOXI_KERNELSPEC)

# WSTPServer's default port on the loopback interface.
DEFAULT_SERVER = "31415@127.0.0.1"

LANGUAGE_INFO: dict[str, Any] = {
    "name": "wolfram",
    "version": "Mathics3",
    "mimetype": "text/x-mathematica",
    "file_extension": ".wl",
    "pygments_lexer": "mathematica",
    "codemirror_mode": "mathematica",
}

IMPLEMENTATION = "wstp_jupyter"
IMPLEMENTATION_VERSION = __version__

_DISPLAY_NAMES = {
    LOCAL_KERNELSPEC: "Wolfram Language (Mathics3)",
    SERVER_KERNELSPEC: "Wolfram Language (wstpserver)",
    WOXI_KERNELSPEC: "Wolfram Language (Woxi)",
}


def kernel_json(name: str, *, executable: str = "python") -> dict[str, Any]:
    """Return the ``kernel.json`` contents of kernelspec ``name``.

    Args:
        name: ``"wolfram-wstp"`` (a local kernel process launched on demand) or
            ``"wolfram-wstpserver"`` (a kernel from the wstpserver on ``31415@127.0.0.1``) or
            ``"wolfram-woxi"`` (a local kernel process evaluating with Woxi).
        executable: ``argv[0]``. The default ``"python"`` is rewritten by jupyter_client to the
            interpreter that runs the Jupyter server, which is where this package is installed.

    Returns:
        A JSON-ready dict.

    Raises:
        KeyError: ``name`` is not one of :data:`KERNELSPEC_NAMES`.
    """
    display_name = _DISPLAY_NAMES[name]
    argv = [executable, "-m", "wstp_jupyter.kernel", "-f", "{connection_file}"]
    metadata: dict[str, Any] = {"debugger": False}
    if name == SERVER_KERNELSPEC:
        argv += ["--server", DEFAULT_SERVER]
    elif name == WOXI_KERNELSPEC:
        argv += ["--engine", "woxi"]
    return {
        "argv": argv,
        "display_name": display_name,
        "language": LANGUAGE_INFO["name"],
        "interrupt_mode": "message",
        "metadata": metadata,
    }
