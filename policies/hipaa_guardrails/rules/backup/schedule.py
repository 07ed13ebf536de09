"""Backup schedule parsing: does a rule run at least once a day?"""

import re

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")


def runs_daily(expression: str) -> bool:
    """True if an AWS Backup schedule expression runs at least once every day (UTC)."""
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2)
        hours = (
            amount / 60
            if unit.startswith("minute")
            else amount * (24 if unit.startswith("day") else 1)
        )
        return 0 < hours <= 24
    cron = _CRON.match(expression)
    if not cron:
        return False
    fields = cron.group(1).split()
    if len(fields) != 6:
        return False
    _minute, _hour, day_of_month, month, day_of_week, year = fields
    return (
        day_of_month in ("*", "?")
        and month == "*"
        and day_of_week in ("*", "?")
        and year in ("*", "?")
    )
