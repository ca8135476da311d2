"""A peer for launch tests: connects as told by -linkmode/-linkprotocol/-linkname and echoes
every expression back; an urgent message is answered with ``{"message", code, arg}``."""

from __future__ import annotations

import os
import sys

from wstp_jupyter.link import KEY_ENV, Link, LinkClosed, UrgentMessage


def main(argv: list[str]) -> int:
    opts = dict(zip(argv[::2], argv[1::2], strict=False))
    link = Link.connect(opts["-linkprotocol"], opts["-linkname"], key=os.environ[KEY_ENV])

    def on_message(msg: UrgentMessage) -> None:
        link.put(["message", msg.code, msg.arg])

    link.set_message_handler(on_message)
    while True:
        try:
            expr = link.get()
        except LinkClosed:
            return 0
        link.put(expr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
