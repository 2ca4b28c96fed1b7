"""Customer routes of the desk (conversation secret required): where the customer stands in the queue (in
their language, polled by the widget while waiting), ending the conversation, and the CES question at close
- available to any channel through the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from assistant.api.deps import CustomerConversation, State, limit_ip
from assistant.api.routes_agent import call
from assistant.api.routes_customer import LIMIT_DOC, NOT_FOUND_DOC
from assistant.api.schemas import error_docs
from assistant.api.schemas_desk import CesOut, CesRequest, CloseOut, QueueStatusOut

DOC = {**NOT_FOUND_DOC, **LIMIT_DOC}
# Every route documents DOC's answers (the router adds them to each route's own).
router = APIRouter(
    prefix="/v1/conversations", tags=["customer"], dependencies=[Depends(limit_ip)], responses=DOC
)


@router.get(
    "/{conversation_id}/queue",
    summary="Queue position, expected wait and opening hours, in the customer's language",
    response_model=QueueStatusOut,
)
async def queue_status(conversation: CustomerConversation, state: State) -> dict[str, Any]:
    status = await call(state.service.router.queue_status, conversation.id)
    return status.as_dict()


@router.post(
    "/{conversation_id}/close",
    summary="The customer ends the conversation; the answer carries the CES question",
    response_model=CloseOut,
)
async def close(conversation: CustomerConversation, state: State) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        state.service.router.close(conversation.id, None)
        return {
            "status": state.service.conversations.get(conversation.id).status.value,
            "ces": state.service.router.feedback.question(conversation.id),
        }

    return await call(run)


@router.get(
    "/{conversation_id}/ces",
    summary="The Customer Effort Score question (1-7) and whether it was answered",
    response_model=CesOut,
)
async def ces_question(conversation: CustomerConversation, state: State) -> dict[str, Any]:
    return await call(state.service.router.feedback.question, conversation.id)


@router.post(
    "/{conversation_id}/ces",
    summary="Answer (1-7) or skip (null) the CES question, once, after the conversation is closed",
    response_model=CesOut,
    status_code=201,
    responses=error_docs({409: "Not closed yet, or already answered", 422: "A score outside 1-7"}),
)
async def answer_ces(body: CesRequest, conversation: CustomerConversation, state: State) -> dict[str, Any]:
    return await call(state.service.router.feedback.answer, conversation.id, body.score)
