"""The verified identity policy over the real API: knowing an email proves nothing; a one-time code mailed
(over real SMTP) to the email on file and typed back in the same conversation signs it in."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from assistant.api.app import create_app
from assistant.db import session_factory
from assistant.identity.otp import OtpRow
from assistant.identity.tokens import issue_customer_token
from assistant.shop import demo as d
from tests.api.helpers import TOKEN_SECRET, make_settings, start, turn
from tests.api.verified import VerifiedApi, verified_api

pytestmark = pytest.mark.slow  # a real API on the prepared sample shop, or `parley serve` processes

UNKNOWN_EMAIL = "nobody.here.4242@example.com"


@pytest.fixture(scope="module")
def api(prepared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VerifiedApi]:
    with verified_api(prepared_dir, tmp_path_factory.mktemp("verified-api")) as running:
        yield running


def order_status(api: VerifiedApi, order_id: str) -> str:
    with api.service.shop.transaction() as shop:
        order = shop.get_order(order_id)
        assert order is not None
        return order.status


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_default_policy_is_verified() -> None:
    from knowledge.settings import Settings

    assert Settings.model_fields["identity_policy"].default == "verified"


def test_an_email_sends_a_code_and_only_the_code_signs_in(api: VerifiedApi) -> None:
    cid, headers = start(api.client)
    first = turn(
        api.client, cid, headers, f"my email is {d.DEMO_USER_EMAIL}, cancel order {d.DEMO_PENDING_ORDER_ID}"
    )
    assert "code" in first["reply"] and first["awaiting_confirmation"] is None
    assert "Emma" not in first["reply"] and d.DEMO_PENDING_ORDER_ID not in first["reply"].replace(
        f"cancel order {d.DEMO_PENDING_ORDER_ID}", ""
    )
    assert first["tool_calls"] == []  # nothing was looked up for the customer
    code = api.code_for(d.DEMO_USER_EMAIL)
    signed = turn(api.client, cid, headers, code)
    assert "signed in" in signed["reply"]
    # The request held while the code travelled is answered now, as the signed-in customer.
    assert d.DEMO_PENDING_ORDER_ID in signed["reply"]
    assert order_status(api, d.DEMO_PENDING_ORDER_ID) == "pending"
    assert api.service.conversations.get(cid).user_id == d.DEMO_USER_ID


def test_same_answer_whether_or_not_the_account_exists(api: VerifiedApi) -> None:
    replies = []
    for email in (d.DEMO_SECOND_USER_EMAIL, UNKNOWN_EMAIL):
        cid, headers = start(api.client)
        reply = turn(api.client, cid, headers, f"my email is {email}, where is my order?")["reply"]
        replies.append(reply.replace(email, "<email>"))
        bad = turn(api.client, cid, headers, "000000" if email == UNKNOWN_EMAIL else "000001")["reply"]
        replies.append(bad)
    assert replies[0] == replies[2] and replies[1] == replies[3]
    assert api.mails_to(UNKNOWN_EMAIL) == []  # nothing is mailed to an address that is not on file


def test_wrong_code_counts_attempts_then_locks(api: VerifiedApi) -> None:
    cid, headers = start(api.client)
    turn(api.client, cid, headers, d.DEMO_SECOND_USER_EMAIL)
    code = api.code_for(d.DEMO_SECOND_USER_EMAIL)
    attempts = api.settings.otp_max_attempts
    texts = [turn(api.client, cid, headers, wrong(code))["reply"] for _ in range(attempts)]
    assert f"{attempts - 1} attempt(s) left" in texts[0]
    assert "no longer be used" in texts[-1]
    late = turn(api.client, cid, headers, code)  # the right code after the lock-out: refused
    assert "no longer be used" in late["reply"]
    assert api.service.conversations.get(cid).user_id is None


def test_expired_code_is_refused(api: VerifiedApi) -> None:
    cid, headers = start(api.client)
    email = d.DEMO_SECOND_USER_EMAIL
    turn(api.client, cid, headers, f"hi, {email} here")
    code = api.code_for(email)
    with session_factory(str(api.settings.database_url)).begin() as session:
        session.execute(
            update(OtpRow)
            .where(OtpRow.target.endswith(f">email:{email}"))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert "no longer be used" in turn(api.client, cid, headers, code)["reply"]
    assert api.service.conversations.get(cid).user_id is None


def test_a_used_code_cannot_be_replayed(api: VerifiedApi) -> None:
    cid, headers = start(api.client)
    turn(api.client, cid, headers, d.DEMO_USER_EMAIL)
    code = api.code_for(d.DEMO_USER_EMAIL)
    assert "signed in" in turn(api.client, cid, headers, code)["reply"]
    other, other_headers = start(api.client)  # replayed in a fresh conversation: nothing to verify
    replay = turn(api.client, other, other_headers, code)
    assert "signed in" not in replay["reply"]
    assert api.service.conversations.get(other).user_id is None


def test_a_code_signs_in_only_where_and_for_whom_it_was_asked(api: VerifiedApi) -> None:
    # The attacker asks a code for the victim's address; the victim's code is useless in another chat,
    # and a code mailed to the attacker's own address never signs in as the victim.
    attacker, attacker_headers = start(api.client)
    turn(api.client, attacker, attacker_headers, f"I am {d.DEMO_USER_EMAIL}, show my account")
    victim_code = api.code_for(d.DEMO_USER_EMAIL)
    elsewhere, elsewhere_headers = start(api.client)
    assert "signed in" not in turn(api.client, elsewhere, elsewhere_headers, victim_code)["reply"]
    turn(api.client, attacker, attacker_headers, d.DEMO_SECOND_USER_EMAIL)  # now asks one for lucas
    own_code = api.code_for(d.DEMO_SECOND_USER_EMAIL)
    signed = turn(api.client, attacker, attacker_headers, own_code)
    assert "signed in" in signed["reply"]
    assert api.service.conversations.get(attacker).user_id == d.DEMO_SECOND_USER_ID
    # Signed in as lucas: emma's order is "not found", and her email signs nothing in.
    probe = turn(api.client, attacker, attacker_headers, f"cancel order {d.DEMO_PENDING_ORDER_ID}")
    assert "Emma" not in probe["reply"] and "Backpack" not in probe["reply"]
    probe = turn(api.client, attacker, attacker_headers, f"my email is {d.DEMO_USER_EMAIL}, show my account")
    assert "emma" not in probe["reply"].lower().replace(d.DEMO_USER_EMAIL, "")
    assert api.service.conversations.get(attacker).user_id == d.DEMO_SECOND_USER_ID
    assert order_status(api, d.DEMO_PENDING_ORDER_ID) == "pending"


def test_name_and_zip_prove_nothing(api: VerifiedApi) -> None:
    cid, headers = start(api.client)
    reply = turn(
        api.client,
        cid,
        headers,
        f"I'm {d.DEMO_USER_FIRST_NAME} {d.DEMO_USER_LAST_NAME}, zip {d.DEMO_USER_ZIP}, where is my order?",
    )
    assert "email address on your account" in reply["reply"]
    assert api.service.conversations.get(cid).user_id is None
    assert not any(t["name"].startswith("find_user") and t["ok"] for t in reply["tool_calls"])


def test_a_signed_token_still_signs_in(api: VerifiedApi) -> None:
    token = issue_customer_token(d.DEMO_USER_ID, TOKEN_SECRET)
    cid, headers = start(api.client, customer_token=token)
    reply = turn(api.client, cid, headers, f"where is order {d.DEMO_PENDING_ORDER_ID}?")
    assert "pending" in reply["reply"]


def test_token_over_the_maximum_lifetime_is_refused(api: VerifiedApi) -> None:
    limit = api.settings.customer_token_max_lifetime_s
    token = issue_customer_token(d.DEMO_USER_ID, TOKEN_SECRET, ttl=limit + 60)
    response = api.client.post("/v1/conversations", json={"customer_token": token})
    assert response.status_code == 401
    assert "longer than the allowed" in response.json()["detail"]
    fine = issue_customer_token(d.DEMO_USER_ID, TOKEN_SECRET, ttl=limit)
    assert api.client.post("/v1/conversations", json={"customer_token": fine}).status_code == 201


def test_mail_server_down_gives_the_same_answer(api: VerifiedApi, tmp_path: Path) -> None:
    settings = api.settings.model_copy(update={"smtp_port": 1})  # nothing listens there
    from assistant.parts import ServiceParts
    from assistant.service import SupportService

    shared = api.service.parts
    service = SupportService(
        settings,
        ServiceParts(
            settings,
            embedder=shared.embedder,
            encoder=shared.encoder,
            guard=shared.guard,
            shop=shared.shop,
            conversations=shared.conversations,
            help_center=shared.help_center,
        ),
    )
    conversation, _ = service.start_conversation()
    down = service.customer_turn(conversation.id, f"{d.DEMO_USER_EMAIL}").reply
    conversation, _ = service.start_conversation()
    unknown = service.customer_turn(conversation.id, f"{UNKNOWN_EMAIL}").reply
    assert down and unknown and down.replace(d.DEMO_USER_EMAIL, "x") == unknown.replace(UNKNOWN_EMAIL, "x")


def test_benchmark_policy_is_named_in_the_log(prepared_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.api.app"):
        create_app(make_settings(prepared_dir, identity_policy="tau2_benchmark"))
    assert any("tau2_benchmark" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="assistant.api.app"):
        create_app(make_settings(prepared_dir, identity_policy="verified"))
    assert not any("tau2_benchmark" in r.getMessage() for r in caplog.records)


def test_code_flow_in_french(api: VerifiedApi) -> None:
    cid, headers = start(api.client, language="fr")
    reply = turn(
        api.client, cid, headers, f"Bonjour, mon adresse est {d.DEMO_SECOND_USER_EMAIL}, où est ma commande ?"
    )
    assert "code à 6 chiffres" in reply["reply"]


def test_asking_for_a_person_goes_to_a_person_not_to_a_code(api: VerifiedApi) -> None:
    email = "person.wanted.77@example.com"
    cid, headers = start(api.client)
    reply = turn(api.client, cid, headers, f"I want to talk to a human agent now. My email is {email}")
    assert reply["handover"] is True and "code" not in reply["reply"]
    assert api.mails_to(email) == []
