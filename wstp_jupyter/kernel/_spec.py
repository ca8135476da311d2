"""What Jupyter is told about the kernel: kernelspecs and ``language_info``.

One source of truth for both kernelspecs (``kernelspec/*/kernel.json`` in the repository is
generated from :func:`kernel_json`, and a test keeps them equal) and for the ``language_info``
reported in ``kernel_info_reply``. The pygments lexer and CodeMirror mode are both
``mathematica``: Pygments' ``MathematicaLexer`` highlights exported HTML and JupyterLab's
legacy-mode registry maps ``mathematica`` (and the ``text/x-mathematica`` MIME type) to its
Mathematica mode, so cells are highlighted in the browser too.
"""

from __future__ import annotations

import functools
from typing import Any

from wstp_jupyter import __version__

LOCAL_KERNELSPEC = "wolfram-wstp"
SERVER_KERNELSPEC = "wolfram-wstpserver"
WOXI_KERNELSPEC = "wolfram-woxi"
KERNELSPEC_NAMES: tuple[str, ...] = (LOCAL_KERNELSPEC, SERVER_KERNELSPEC, WOXI_KERNELSPEC)

# WSTPServer's default port on the loopback interface.
DEFAULT_SERVER = "31415@127.0.0.1"

# ``version`` is filled in per kernel: the version of the engine that evaluates (see
# :func:`engine_version`).
LANGUAGE_INFO: dict[str, Any] = {
    "name": "wolfram",
    "version": "",
    "mimetype": "text/x-mathematica",
    "file_extension": ".wl",
    "pygments_lexer": "mathematica",
    "codemirror_mode": "mathematica",
}

# The distribution of each engine, whose version is the language version reported: Mathics3 and
# Woxi each implement the Wolfram Language as far as their release goes, and say so with their
# own version number ($Version is "Mathics3 10.0.1 ..." or "Woxi 0.3.0"); there is no Wolfram
# version they claim to match.
_ENGINE_DISTRIBUTIONS = {"mathics3": "Mathics3", "woxi": "woxi"}

_PROJECT_LINK = {"text": "wstp-jupyter", "url": "https://github.com/wstp-jupyter/wstp-jupyter"}
_WOLFRAM_LINK = {"text": "Wolfram Language reference",
                 "url": "https://reference.wolfram.com/language/"}
# The engines' home pages, as their package metadata gives them (Project-URL "Homepage").
_ENGINE_LINKS = {
    "mathics3": {"text": "Mathics3", "url": "https://mathics.org/"},
    "woxi": {"text": "Woxi", "url": "https://woxi.ad-si.com"},
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


@functools.cache
def engine_version(engine: str) -> str:
    """The version of ``engine`` (``"mathics3"`` or ``"woxi"``) installed with this package,
    from its distribution's metadata (no import); ``""`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_ENGINE_DISTRIBUTIONS[engine])
    except (KeyError, PackageNotFoundError):
        return ""


def help_links(engine: str | None) -> list[dict[str, str]]:
    """Jupyter's ``help_links``: the project, the Wolfram Language reference and the engine's
    documentation (both engines' when ``engine`` is not known, as for a wstpserver kernel not
    yet connected)."""
    engines = [engine] if engine in _ENGINE_LINKS else list(_ENGINE_LINKS)
    links = [_PROJECT_LINK, _WOLFRAM_LINK, *(_ENGINE_LINKS[e] for e in engines)]
    return [dict(link) for link in links]
