"""Canned responses (macros) with variables such as {{customer_name}} and {{order_id}}, searchable by
words in the title, body and tags. Rendering is pure; a variable we cannot fill is reported, never guessed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, select

from assistant.db import get_row
from assistant.routing.context import DeskDb, NotFoundError, as_utc
from assistant.routing.models import MacroRow
from knowledge.language import fold, tokens

VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
VARIABLES = ("customer_name", "first_name", "email", "order_id", "order_status", "agent_name", "shop_name")


class MacroSpec(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=5000)
    tags: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")

    @field_validator("body")
    @classmethod
    def _known_variables(cls, value: str) -> str:
        unknown = sorted({v for v in VARIABLE.findall(value) if v not in VARIABLES})
        if unknown:
            raise ValueError(f"unknown variables {unknown}; available: {', '.join(VARIABLES)}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return sorted({t.strip().lower() for t in value if t.strip()})[:20]


class Macro(MacroSpec):
    id: int
    created_by: str | None = None
    created_at: datetime | None = None


def variables_for(
    customer: Mapping[str, Any] | None,
    orders: Sequence[Mapping[str, Any]],
    agent: str,
    shop_name: str,
    order_id: str | None = None,
) -> dict[str, str]:
    """The values a macro can use for this conversation (only those we actually know)."""
    values = {"agent_name": agent, "shop_name": shop_name}
    if customer:
        name = customer.get("name") or {}
        if isinstance(name, Mapping):
            first, last = str(name.get("first_name", "")).strip(), str(name.get("last_name", "")).strip()
            if first:
                values["first_name"] = first
            if first or last:
                values["customer_name"] = f"{first} {last}".strip()
        if customer.get("email"):
            values["email"] = str(customer["email"])
    chosen = next((o for o in orders if o.get("order_id") == order_id), None) if order_id else None
    chosen = chosen or (orders[-1] if orders else None)
    if chosen is not None:
        values["order_id"] = str(chosen.get("order_id", ""))
        values["order_status"] = str(chosen.get("status", ""))
    return {k: v for k, v in values.items() if v}


def render(body: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """The text with known variables filled; unknown ones stay as [variable] and are listed."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return f"[{name}]"

    return VARIABLE.sub(fill, body), missing


def search(macros: Sequence[Macro], query: str, language: str | None = None) -> list[Macro]:
    """Macros whose title, body or tags contain every word of the query; the conversation's language first."""
    words = tokens(fold(query or ""))
    found = []
    for macro in macros:
        haystack = fold(" ".join([macro.title, macro.body, *macro.tags]))
        if all(w in haystack for w in words):
            found.append(macro)
    return sorted(found, key=lambda m: (m.language not in (None, language), m.title.lower()))


class MacroStore:
    def __init__(self, db: DeskDb) -> None:
        self.db = db

    def all(self) -> list[Macro]:
        with self.db.sessions() as session:
            return [self._macro(r) for r in session.scalars(select(MacroRow).order_by(MacroRow.title)).all()]

    def get(self, macro_id: int) -> Macro:
        with self.db.sessions() as session:
            row = get_row(session, MacroRow, macro_id, NotFoundError(f"macro {macro_id} not found"))
            return self._macro(row)

    def create(self, spec: MacroSpec, author: str) -> Macro:
        with self.db.sessions.begin() as session:
            row = MacroRow(
                title=spec.title,
                body=spec.body,
                tags=spec.tags,
                language=spec.language,
                created_by=author,
                created_at=self.db.now(),
            )
            session.add(row)
            session.flush()
            return self._macro(row)

    def delete(self, macro_id: int) -> None:
        with self.db.sessions.begin() as session:
            if session.get(MacroRow, macro_id) is None:
                raise NotFoundError(f"macro {macro_id} not found")
            session.execute(delete(MacroRow).where(MacroRow.id == macro_id))

    @staticmethod
    def _macro(row: MacroRow) -> Macro:
        return Macro(
            id=row.id,
            title=row.title,
            body=row.body,
            tags=list(row.tags or []),
            language=row.language,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
        )
