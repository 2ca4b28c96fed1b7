"""Case files: single questions and scripted conversations (format: eval/cases/README.md), read with clear
errors for anything malformed. A file's kind is told by its records: `question` or `turns`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.jsonl import JsonLineError, json_lines

MAX_CASE_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 4000


class CaseFileError(ValueError):
    """A case file that cannot be used as given (missing, too large, not JSONL/YAML, bad fields)."""


class QuestionCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    question: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    locale: str = "en"
    gold_article_ids: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    answerable: bool = True
    tags: list[str] = Field(default_factory=list)
    # Thresholds are fitted on "dev" and reported on "test" (eval/calibrate.py); None: in neither split.
    split: Literal["dev", "test"] | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class ExpectedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    arguments: dict[str, Any] = Field(default_factory=dict)  # a subset of the actual arguments


class Setup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: Literal["sample", "tau2"] = "sample"
    # The widget's signed customer token: the conversation starts authenticated as this user.
    customer_token_user_id: str | None = None


class ConversationCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn] = Field(min_length=1, max_length=50)
    expected_tool_calls: list[ExpectedCall] = Field(default_factory=list)
    # {"orders": {order_id: {field: value}}, "users": {user_id: {field: value}}}, values subset-matched.
    expected_final_state: dict[Literal["orders", "users", "products"], dict[str, dict[str, Any]]] = Field(
        default_factory=dict
    )
    expected_takeover: bool = False
    takeover_by_turn: int | None = Field(default=None, ge=1)
    facts: list[str] = Field(default_factory=list)
    # Strings the bot must NOT say (another customer's items in a cross-customer probe, invented answers).
    forbidden_facts: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    notes: str = ""


Case = QuestionCase | ConversationCase


def _records(path: Path) -> list[tuple[str, Any]]:
    if not path.is_file():
        raise CaseFileError(f"case file not found: {path}")
    if path.stat().st_size > MAX_CASE_FILE_BYTES:
        raise CaseFileError(f"case file larger than {MAX_CASE_FILE_BYTES // 2**20} MiB: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        try:
            return [(f"{path.name}:{number}", record) for number, record in json_lines(text.splitlines())]
        except JsonLineError as exc:
            raise CaseFileError(f"{path.name}:{exc.line}: invalid JSON: {exc.reason}") from None
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CaseFileError(f"{path.name}: invalid YAML: {exc}") from None
        if not isinstance(data, list):
            raise CaseFileError(f"{path.name}: expected a YAML list of cases")
        return [(f"{path.name}[{i}]", item) for i, item in enumerate(data)]
    raise CaseFileError(f"{path.name}: unsupported case file type {suffix!r} (use .jsonl or .yaml)")


def parse_case(where: str, record: Any) -> Case:
    if not isinstance(record, dict):
        raise CaseFileError(f"{where}: expected an object, got {type(record).__name__}")
    model: type[QuestionCase] | type[ConversationCase] = (
        ConversationCase if "turns" in record else QuestionCase
    )
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "case"
        raise CaseFileError(f"{where}: {loc}: {first['msg']}") from None


def load_cases(paths: list[Path]) -> list[Case]:
    """All cases of the files, in order; ids must be unique across them."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in paths:
        for where, record in _records(path):
            case = parse_case(where, record)
            if case.id in seen:
                raise CaseFileError(f"{where}: duplicate case id {case.id!r} (first in {seen[case.id]})")
            seen[case.id] = where
            cases.append(case)
    return cases
