"""Named points in a customer turn where a fault test can stop the process (tests/faults).

With PARLEY_FAULT_PAUSE="after_write" (or "before_reply@2": the second time that point is reached) and
PARLEY_FAULT_DIR=/some/dir, a process reaching the point writes /some/dir/<name> (with its pid) and sleeps,
so the test can `kill -9` it exactly there. Unset (production), `pause_point` is one environment lookup.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

POINTS = ("after_customer_message", "before_write", "after_write", "after_record", "before_reply")
PAUSE_S = 600.0
_reached: Counter[str] = Counter()


def wanted_hit(spec: str, name: str) -> int | None:
    """Which hit of `name` the spec pauses at ("after_write" -> 1, "before_reply@2" -> 2), or None."""
    for entry in spec.split(","):
        point, _, nth = entry.strip().partition("@")
        if point == name:
            return int(nth) if nth.isdigit() else 1
    return None


def pause_point(name: str) -> None:
    spec = os.environ.get("PARLEY_FAULT_PAUSE")
    if not spec:
        return
    nth = wanted_hit(spec, name)
    if nth is None:
        return
    _reached[name] += 1
    if _reached[name] != nth:
        return
    folder = os.environ.get("PARLEY_FAULT_DIR")
    if folder:
        Path(folder, name).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(PAUSE_S)
