"""Replay lists of tool calls (τ² gold actions) against a fresh copy of a shop, as the trusted operator.

Importing a whole τ² db takes a while; `SqliteTemplate` imports it once into a SQLite file and hands
out fresh copies (SQLite's backup API, so a WAL file is never left behind), one per replayed task.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.tools.base import CustomerScope, HelpCenterSearch, ToolResult
from assistant.tools.toolkit import Toolkit

MAX_INPUT_BYTES = 64 * 1024 * 1024


class ReplayInputError(ValueError):
    """An actions / tasks / db file that cannot be replayed as given."""


class ToolCall(BaseModel):
    """One tool call: τ²'s action shape (action_id and info are kept when present, else ignored)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    arguments: dict[str, Any] = Field(default_factory=dict)
    action_id: str | None = None


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise ReplayInputError(f"{what} file not found: {path}")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise ReplayInputError(f"{what} file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReplayInputError(f"{what} file is not valid JSON ({path}): {exc}") from None


def _is_task(value: Any) -> bool:
    return isinstance(value, dict) and "evaluation_criteria" in value


def _task_calls(task: dict[str, Any]) -> list[Any]:
    criteria = task.get("evaluation_criteria") or {}
    actions = criteria.get("actions") if isinstance(criteria, dict) else None
    return list(actions or [])


def parse_tool_calls(raw: Any, task_id: str | None = None) -> list[ToolCall]:
    """Tool calls from a list of {name, arguments}, one τ² task, {"actions": [...]}, or a task list + id."""
    if isinstance(raw, list) and raw and all(_is_task(item) for item in raw):
        if task_id is None:
            raise ReplayInputError(f"this is a list of {len(raw)} tasks: choose one with --task ID")
        matches = [task for task in raw if str(task.get("id")) == task_id]
        if not matches:
            raise ReplayInputError(f"no task with id {task_id!r}")
        calls: list[Any] = _task_calls(matches[0])
    elif task_id is not None:
        raise ReplayInputError("--task needs a list of τ² tasks (tasks.json)")
    elif _is_task(raw):
        calls = _task_calls(raw)
    elif isinstance(raw, dict) and isinstance(raw.get("actions"), list):
        calls = raw["actions"]
    elif isinstance(raw, list):
        calls = raw
    else:
        raise ReplayInputError(
            "expected a list of {name, arguments} calls, a τ² task, or a τ² tasks list with --task"
        )
    parsed = []
    for index, call in enumerate(calls):
        try:
            parsed.append(ToolCall.model_validate(call))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "call"
            raise ReplayInputError(f"call {index}: {where}: {first['msg']}") from None
    return parsed


def load_tool_calls(path: Path, task_id: str | None = None) -> list[ToolCall]:
    return parse_tool_calls(_read_json(path, "actions"), task_id)


def load_tasks(path: Path) -> list[dict[str, Any]]:
    raw = _read_json(path, "tasks")
    if not isinstance(raw, list) or not all(_is_task(item) for item in raw):
        raise ReplayInputError(f"{path} is not a list of τ² tasks")
    return raw


def load_shop_data(path: Path) -> Any:
    """A τ² db.json as ShopData (a clear error for anything else)."""
    from assistant.shop.store import ShopDataError, validate_shop_data

    try:
        return validate_shop_data(_read_json(path, "db"))
    except ShopDataError as exc:
        raise ReplayInputError(f"{path}: {exc}") from None


def replay_calls(
    store: Any,
    calls: Iterable[ToolCall],
    *,
    help_center: HelpCenterSearch | None = None,
    on_result: Callable[[int, ToolCall, ToolResult], None] | None = None,
) -> list[ToolResult]:
    """Run the calls in order through the toolkit as the trusted operator (no customer scoping)."""
    scope = CustomerScope.operator()
    toolkit = Toolkit(store, help_center)
    results = []
    for index, call in enumerate(calls):
        result = toolkit.run(scope, call.name, call.arguments)
        results.append(result)
        if on_result is not None:
            on_result(index, call, result)
    return results


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def dispose_store(store: Any) -> None:
    """Close the pooled connections of a store's engine (so its SQLite file can be copied or removed)."""
    from assistant.db import make_engine

    make_engine(store.database_url).dispose()


def copy_sqlite(source: Path, destination: Path) -> None:
    """A consistent copy of a SQLite database (WAL included), whatever connections are open on it."""
    destination.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(destination)) as dst:
        src.backup(dst)


class SqliteTemplate:
    """A shop imported once into a SQLite file; `fresh_store()` gives a private copy of it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def build(cls, data: Any, path: Path) -> SqliteTemplate:
        from assistant.shop.store import ShopStore

        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        store = ShopStore(sqlite_url(path))
        store.migrate()
        store.import_data(data, replace=True)
        dispose_store(store)
        return cls(path)

    @contextmanager
    def fresh_store(self, path: Path) -> Iterator[Any]:
        """A ShopStore on a new copy of the template at `path`; the copy is removed afterwards."""
        from assistant.shop.store import ShopStore

        copy_sqlite(self.path, path)
        store = ShopStore(sqlite_url(path))
        try:
            yield store
        finally:
            dispose_store(store)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
