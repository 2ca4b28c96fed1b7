"""Named points in a customer turn where a fault test can stop the process (tests/faults).

With PARLEY_FAULT_PAUSE="after_write,before_reply" and PARLEY_FAULT_DIR=/some/dir, a process reaching a
named point writes /some/dir/<name> (with its pid) and sleeps, so the test can `kill -9` it exactly there.
Unset (production), `pause_point` is one environment lookup and returns.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("after_customer_message", "before_write", "after_write", "after_record", "before_reply")
PAUSE_S = 600.0


def pause_point(name: str) -> None:
    wanted = os.environ.get("PARLEY_FAULT_PAUSE")
    if not wanted or name not in wanted.split(","):
        return
    folder = os.environ.get("PARLEY_FAULT_DIR")
    if folder:
        Path(folder, name).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(PAUSE_S)
