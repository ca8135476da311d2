"""The errors of :mod:`wstp_jupyter.wxf`.

``WXFError`` is the package root and derives from the project root. Decoding problems are
``WXFDecodeError`` (also a ``ValueError`` so generic ``except ValueError`` code keeps working);
a document that breaks a receiver :class:`~wstp_jupyter.wxf.Limits` raises ``WXFLimitError``,
a kind of decode error because a receiver treats both the same way: it drops the document.
Values that cannot be written raise ``WXFEncodeError`` (a ``ValueError`` too); a value nested deeper
than the ``max_depth`` a writer was given (the receiver's limit) raises ``WXFDepthError``.
"""

from __future__ import annotations

from wstp_jupyter._errors import WSTPJupyterError


class WXFError(WSTPJupyterError):
    """Root of every error raised on purpose by :mod:`wstp_jupyter.wxf`."""


class WXFDecodeError(WXFError, ValueError):
    """The bytes are not a valid WXF document (or not exactly one)."""


class WXFLimitError(WXFDecodeError):
    """The document exceeds a receiver limit (depth, length or size)."""


class WXFEncodeError(WXFError, ValueError):
    """The value cannot be written as WXF (unsupported type or out-of-range content)."""


class WXFDepthError(WXFEncodeError):
    """The value nests deeper than the ``max_depth`` the writer was asked to respect (a
    receiver would refuse the document with ``WXFLimitError``)."""
