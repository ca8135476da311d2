"""The server's logger, in WSTPServer's log format and levels.

WSTPServer writes a header line ``WSTPServer: Logger (0, 2020-09-29 16:50:00): Information:``
followed by the indented message. Its three levels map onto :mod:`logging` as

* ``1`` / ``error``: errors, plus the startup and shutdown lines (logged at :data:`INFORMATION`),
* ``2`` / ``debug``: everything, at :data:`logging.DEBUG` and above,
* ``3`` / ``trace``: also every handled packet (logged at :data:`TRACE`).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from wstp_jupyter.server._errors import ConfigError

logger = logging.getLogger("wstp_jupyter.server")

#: Startup/shutdown lines: shown at every level, like WSTPServer's "Information" entries.
INFORMATION = 35
#: Every handled packet, shown only at ``--log-level trace``.
TRACE = 5
logging.addLevelName(INFORMATION, "Information")
logging.addLevelName(TRACE, "Trace")

_LEVELS = {"1": INFORMATION, "error": INFORMATION, "2": logging.DEBUG, "debug": logging.DEBUG,
           "3": TRACE, "trace": TRACE}
_NAMES = {logging.ERROR: "Error", logging.WARNING: "Warning", logging.INFO: "Information",
          logging.DEBUG: "Debug", INFORMATION: "Information", TRACE: "Trace",
          logging.CRITICAL: "Error"}


def parse_log_level(text: str) -> int:
    """Map ``error|debug|trace`` or ``1|2|3`` to a :mod:`logging` level.

    Raises:
        ConfigError: any other value.
    """
    level = _LEVELS.get(text.strip().lower())
    if level is None:
        raise ConfigError(f"bad log level {text!r}: use error, debug, trace or 1, 2, 3",
                          key="--log-level")
    return level


class WSTPServerFormatter(logging.Formatter):
    """Formats records as WSTPServer does: a header line, then the indented message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        kind = _NAMES.get(record.levelno, record.levelname.title())
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        body = "\n".join("    " + line for line in text.splitlines() or [""])
        return f"WSTPServer: Logger (0, {stamp}): {kind}:\n{body}"


def configure_logging(level: int, log_file: str | None) -> logging.Handler:
    """Send the server's log to ``log_file`` (or stdout) at ``level``; returns the handler.

    Raises:
        ConfigError: the log file cannot be opened.
    """
    handler: logging.Handler
    if log_file:
        try:
            handler = logging.FileHandler(Path(log_file).expanduser(), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot open the log file: {exc}", key="--log-file") from None
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(WSTPServerFormatter())
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
