"""TokenPieces: the streamed words gathered between two writes to the client (api/token_pieces.py)."""

from __future__ import annotations

import threading

from assistant.api.token_pieces import TokenPieces


def test_pieces_before_a_take_go_out_together_in_order() -> None:
    pieces = TokenPieces()
    assert pieces.add("Orders ") is True  # the first piece schedules an event
    assert pieces.add("leave ") is False  # the next ones ride along with it
    assert pieces.add("today.") is False
    assert pieces.take() == "Orders leave today."
    assert pieces.take() == ""  # nothing twice


def test_a_piece_after_a_take_schedules_a_new_event() -> None:
    pieces = TokenPieces()
    assert pieces.add("a ") is True
    assert pieces.take() == "a "
    assert pieces.add("b") is True
    assert pieces.take() == "b"


def test_no_piece_is_lost_between_threads() -> None:
    pieces = TokenPieces()
    taken: list[str] = []
    scheduled = 0
    words = [f"w{i} " for i in range(2000)]

    def produce() -> None:
        nonlocal scheduled
        for word in words:
            if pieces.add(word):
                scheduled += 1

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive():
        taken.append(pieces.take())
    producer.join()
    taken.append(pieces.take())
    assert "".join(taken) == "".join(words)
    assert 1 <= scheduled <= len([t for t in taken if t]) + 1
