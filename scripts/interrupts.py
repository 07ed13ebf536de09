"""Ctrl-C and SIGTERM for the local commands: one line saying what stays, exit 130 or 143."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it unwinds like Ctrl-C."""


def _terminated(_signum: int, _frame: object) -> None:
    raise _Terminated


def run_interruptible(
    main: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None,
    *,
    prog: str,
    what_stays: str,
) -> int:
    """``main(argv)``; an interrupt ends in ``<prog>: interrupted; <what_stays> (exit N)``, with
    N 130 for SIGINT and 143 for SIGTERM, and no traceback. The caller's SIGTERM handler is
    restored afterwards."""
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return main(argv)
    except KeyboardInterrupt as exc:
        code = 143 if isinstance(exc, _Terminated) else 130
        print(f"{prog}: interrupted; {what_stays} (exit {code})", file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
