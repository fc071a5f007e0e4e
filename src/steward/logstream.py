"""A log handler bound to the current ``sys.stderr``, not the one seen at setup.

Run in-process (tests, an embedding program, `click.testing`), the ``sys.stderr`` present when
logging is configured may be a capture that is closed by the time a later record comes; a
plain `logging.StreamHandler` would then fail on every record after it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """`logging.StreamHandler` writing to whatever ``sys.stderr`` is at each record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass
