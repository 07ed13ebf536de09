"""``make bench``: every benchmark section, measured in one run. Sections are modules of this
package exposing ``run() -> None``; they print their own figures."""

from __future__ import annotations

import importlib

SECTIONS = (
    "bench.preview_speed",
    "bench.review_speed",
    "bench.crypto",
    "bench.clinic_keys",
    "bench.seed_load",
    "bench.local_env",
    "bench.audit",
    "bench.cache",
)


def main() -> None:
    for name in SECTIONS:
        importlib.import_module(name).run()


if __name__ == "__main__":
    main()
