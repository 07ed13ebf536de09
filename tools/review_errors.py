"""The one error type of the review commands (``make cost``, ``capacity``, ``diff``, ``diagram``).

Each command turns it into one ``error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

USAGE_ERROR = 2


class ReviewError(Exception):
    """Bad input to a review command; the message is one line saying where and what."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one ``error:`` line and exit 2 (``--help`` still helps)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"error: {self.prog}: {message}\n")
