"""Slot extraction: what the planner hears in a customer's message."""

from __future__ import annotations

import pytest

from assistant.planner.slots import (
    extract_address,
    extract_cancel_reason,
    extract_name,
    extract_order_ids,
    extract_slots,
    match_items,
    mentions_all_items,
    requested_options,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is #W1234567?", ["#W1234567"]),
        ("order W7654321 and #w1111111", ["#W7654321", "#W1111111"]),
        ("my order number is 1234567", []),  # no W prefix: could be anything
        ("#W123456", []),  # too short
    ],
)
def test_order_ids(text: str, expected: list[str]) -> None:
    assert extract_order_ids(text) == expected


def test_email_and_zip_and_name() -> None:
    slots = extract_slots("Hi, I'm Yusuf Rossi, zip 19122, email Yusuf.Rossi@Example.com")
    assert slots.email == "yusuf.rossi@example.com"
    assert slots.zip_code == "19122"
    assert (slots.first_name, slots.last_name) == ("Yusuf", "Rossi")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je m'appelle Emma Laurent", ("Emma", "Laurent")),
        ("ik ben Lucas de Vries", ("Lucas", "de Vries")),
        ("my name is Anna van der Berg", ("Anna", "van der Berg")),
        ("Mia Garcia 80279", ("Mia", "Garcia")),
        ("Hello Thanks", None),
        ("where is my order", None),
    ],
)
def test_names(text: str, expected: tuple[str, str] | None) -> None:
    assert extract_name(text) == expected


def test_order_id_digits_are_not_a_zip() -> None:
    assert extract_slots("cancel #W1234567 please").zip_code is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I don't need it anymore", "no longer needed"),
        ("I changed my mind", "no longer needed"),
        ("I ordered it by mistake", "ordered by mistake"),
        ("commandé par erreur", "ordered by mistake"),
        ("ik heb het niet meer nodig", "no longer needed"),
        ("it's too expensive", None),
    ],
)
def test_cancel_reasons(text: str, reason: str | None) -> None:
    assert extract_cancel_reason(text) == reason


def test_one_line_us_address() -> None:
    address = extract_address("please send it to 12 Oak Street, Apt 4, Denver, CO 80202, USA")
    assert address == {
        "address1": "12 Oak Street",
        "address2": "Apt 4",
        "city": "Denver",
        "state": "CO",
        "country": "USA",
        "zip": "80202",
    }
    # The zip of a new address is not the customer's identity zip.
    assert extract_slots("new address: 12 Oak Street, Denver, CO 80202").zip_code is None


def test_dutch_address_with_the_house_number_after_the_street() -> None:
    address = extract_address("Keizersgracht 12, Amsterdam, NH 1015 CJ, Netherlands")
    assert address == {
        "address1": "Keizersgracht 12",
        "address2": "",
        "city": "Amsterdam",
        "state": "NH",
        "country": "Netherlands",
        "zip": "1015 CJ",
    }


def test_identity_and_a_new_address_in_one_message() -> None:
    slots = extract_slots(
        "I'm Liam Dubois, zip 83977. Please change my address to 12 River Rd, Boise, ID 83702, USA"
    )
    assert (slots.first_name, slots.last_name, slots.zip_code) == ("Liam", "Dubois", "83977")
    assert slots.address is not None and slots.address["zip"] == "83702"


def test_short_words_with_a_number_are_not_a_street() -> None:
    assert extract_address("Apt 4, Denver, CO 80202") is None


def test_incomplete_address_is_not_guessed() -> None:
    assert extract_address("12 Oak Street") is None
    assert extract_address("Denver, CO 80202") is None


ITEMS = [
    {"item_id": "1", "name": "Insulated Water Bottle", "product_id": "p1", "options": {"color": "blue"}},
    {"item_id": "2", "name": "Wool Throw Blanket", "product_id": "p2", "options": {"color": "grey"}},
]


def test_items_are_matched_by_name_words() -> None:
    assert [i["item_id"] for i in match_items("return the water bottle", ITEMS)] == ["1"]
    assert [i["item_id"] for i in match_items("the blanket and the bottle", ITEMS)] == ["1", "2"]
    assert match_items("return it", ITEMS) == []
    assert mentions_all_items("please return all of them")
    assert not mentions_all_items("return the bottle")


def test_requested_options_only_names_changes() -> None:
    variants = [
        {"item_id": "a", "options": {"color": "blue", "capacity": "750ml"}},
        {"item_id": "b", "options": {"color": "red", "capacity": "1L"}},
        {"item_id": "c", "options": {"color": "black", "capacity": "750ml"}},
    ]
    current = {"color": "blue", "capacity": "750ml"}
    assert requested_options("I'd like the red one", variants, current) == {"color": "red"}
    assert requested_options("same colour but 1L", variants, current) == {"capacity": "1L"}
    assert requested_options("a different one please", variants, current) == {}


def test_a_dutch_address_with_the_order_id_in_the_same_message_is_kept() -> None:
    from assistant.planner.slots import extract_address, extract_slots

    text = (
        "change the shipping address of order #W1000001 to Prinsengracht 263, 1016 GV Amsterdam, Netherlands"
    )
    expected = {
        "address1": "Prinsengracht 263",
        "address2": "",
        "city": "Amsterdam",
        "state": "",
        "country": "Netherlands",
        "zip": "1016 GV",
    }
    assert extract_address(text) == expected
    slots = extract_slots(text)
    assert slots.order_ids == ["#W1000001"] and slots.address == expected
    assert extract_address("12 Oak Street, Apt 4, Denver, CO 80202, USA")["address2"] == "Apt 4"  # type: ignore[index]
