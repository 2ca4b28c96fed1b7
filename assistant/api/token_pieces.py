"""A turn's streamed words, gathered between two writes to the client.

The turn runs in a worker thread and hands each piece of the reply to the event loop. Pieces that arrive
faster than the client is written to go out together, as one SSE `token` event: one wake-up of the event
loop and one write per event instead of one per word (the offline planner produces a whole reply at
once; a remote model's pieces come with gaps and still go out one by one).
"""

from __future__ import annotations

import threading


class TokenPieces:
    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._lock = threading.Lock()

    def add(self, piece: str) -> bool:
        """Keep `piece`; True when it is the first since the last take (the caller schedules one event)."""
        with self._lock:
            self._pieces.append(piece)
            return len(self._pieces) == 1

    def take(self) -> str:
        """Everything kept since the last take, in order."""
        with self._lock:
            text = "".join(self._pieces)
            self._pieces.clear()
        return text
