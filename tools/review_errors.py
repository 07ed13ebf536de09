"""The one error type of the review commands (``make cost``, ``capacity``, ``diff``, ``diagram``).

Each command turns it into one ``error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

USAGE_ERROR = 2


class ReviewError(Exception):
    """Bad input to a review command; the message is one line saying where and what."""
