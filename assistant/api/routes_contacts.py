"""Agent routes for contacts: one timeline across channels, link and split identities, reply on a channel,
and undelivered messages (retry)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import AgentName, State, limit_ip, require_agent
from assistant.channels.outbox import Outbox
from assistant.channels.timeline import ReplyError, agent_reply, contact_dict, timeline
from assistant.contacts.identities import InvalidIdentity
from assistant.contacts.store import ContactConflict, ContactNotFound, ContactStore
from assistant.store.conversations import ConversationConflict, ConversationNotFound

router = APIRouter(
    prefix="/v1/agent",
    tags=["agent"],
    dependencies=[Depends(limit_ip), Depends(require_agent)],
    responses={401: {"description": "Missing or invalid agent key"}, 404: {"description": "Unknown contact"}},
)
T = TypeVar("T")


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identity_id: int = Field(gt=0, lt=2**31)


class ContactReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)
    channel: Literal["widget", "email", "whatsapp", "sms", "api"] | None = None


@contextmanager
def contact_errors() -> Iterator[None]:
    try:
        yield
    except (ContactNotFound, ConversationNotFound) as exc:
        raise HTTPException(status_code=404, detail=f"not found: {str(exc).strip(chr(39))}") from exc
    except (ContactConflict, ConversationConflict) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except (ReplyError, InvalidIdentity) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc).strip("'\"")) from exc


async def call(fn: Callable[..., T], *args: Any) -> T:
    with contact_errors():
        return await run_in_threadpool(fn, *args)


def _parts(state: State) -> tuple[ContactStore, Outbox]:
    contacts: ContactStore = state.service.contact_memory.contacts
    return contacts, Outbox(str(state.settings.database_url))


@router.get("/contacts", summary="Contacts, newest activity first (search by name, email, phone, id)")
async def list_contacts(
    state: State, query: str = Query("", max_length=100), limit: int = Query(50, ge=1, le=500)
) -> list[dict[str, Any]]:
    contacts, _ = _parts(state)
    return [contact_dict(c) for c in await call(contacts.list_contacts, query, limit)]


@router.get("/contacts/{contact_id}", summary="One timeline across channels, identities, deliveries")
async def contact_timeline(contact_id: str, state: State) -> dict[str, Any]:
    contacts, outbox = _parts(state)
    return await call(timeline, state.desk, contacts, outbox, contact_id[:64])


@router.get("/conversations/{conversation_id}/contact", summary="The contact a conversation belongs to")
async def contact_of_conversation(conversation_id: str, state: State) -> dict[str, Any]:
    contacts, _ = _parts(state)

    def load() -> dict[str, Any]:
        conversation = state.service.conversations.get(conversation_id[:64])
        if conversation.contact_id is None:
            raise LookupError("this conversation has no contact")
        return contact_dict(contacts.get(conversation.contact_id))

    return await call(load)


@router.post("/contacts/{contact_id}/link", summary="Move an identity into this contact (agent's judgement)")
async def link(contact_id: str, body: IdentityRequest, state: State, agent: AgentName) -> dict[str, Any]:
    """An agent's link shares history between the identities; it never signs anyone in to a shop account
    (docs/channels.md, trust levels)."""
    contacts, _ = _parts(state)
    await call(contacts.link, body.identity_id, contact_id[:64], "agent")
    return contact_dict(await call(contacts.get, contact_id[:64]))


@router.post("/contacts/{contact_id}/split", summary="Move an identity out into a contact of its own")
async def split(contact_id: str, body: IdentityRequest, state: State, agent: AgentName) -> dict[str, Any]:
    contacts, _ = _parts(state)
    identity = await call(contacts.identity, body.identity_id)
    if identity.contact_id != contact_id:
        raise HTTPException(status_code=404, detail="this identity does not belong to this contact")
    new = await call(contacts.split, body.identity_id)
    return {
        "contact": contact_dict(await call(contacts.get, contact_id[:64])),
        "split_into": contact_dict(new),
    }


@router.post(
    "/contacts/{contact_id}/reply", summary="Reply on the last-used channel or a chosen one", status_code=201
)
async def reply(contact_id: str, body: ContactReplyRequest, state: State, agent: AgentName) -> dict[str, Any]:
    contacts, outbox = _parts(state)
    text = body.text.strip()
    if not text:
        raise HTTPException(status_code=422, detail="message text is empty")
    return await call(agent_reply, state.desk, contacts, outbox, contact_id[:64], agent, text, body.channel)


@router.get("/deliveries", summary="Deliveries (e.g. status=undelivered: what did not reach the customer)")
async def deliveries(
    state: State,
    status: Literal["pending", "sent", "undelivered"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    _, outbox = _parts(state)
    return [d.as_dict() for d in await call(outbox.list, status, None, limit)]


@router.post("/deliveries/{delivery_id}/retry", summary="Send an undelivered message again")
async def retry(delivery_id: int, state: State) -> dict[str, Any]:
    if not 0 < delivery_id < 2**31:
        raise HTTPException(status_code=404, detail="delivery not found")
    _, outbox = _parts(state)
    return (await call(outbox.retry, delivery_id)).as_dict()
