"""wstp-jupyter: the Wolfram Language in Jupyter, over WSTP-model links.

Layers, lowest first (a lower layer never imports a higher one):

* :mod:`wstp_jupyter.wxf`    -- the expression model and the WXF codec (no I/O);
* :mod:`wstp_jupyter.link`   -- the WSTP link: sans-IO core plus blocking and asyncio adapters;
* :mod:`wstp_jupyter.engine` -- the kernel process (main loop over a link, Mathics3 backend);
* :mod:`wstp_jupyter.server` -- ``wstpserver``: pools of warm kernels, routing, discovery;
* :mod:`wstp_jupyter.kernel` -- the Jupyter kernel, a front end of the kernel process.
"""

from __future__ import annotations

from wstp_jupyter._errors import WSTPJupyterError

__version__ = "0.1.0"

__all__ = ["WSTPJupyterError", "__version__"]
