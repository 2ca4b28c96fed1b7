"""Hostile-input guards for `parley ingest`: what a source file may not do to the process reading it.

- a symlink may not lead out of the folder being ingested (it would index and serve any file the server
  can read, such as /etc/passwd or another tenant's help centre);
- JSON may not nest deeper than `MAX_JSON_DEPTH` (a 400 KB `[[[[...]]]]` made `json.loads` raise
  RecursionError and abort the whole run);
- YAML front matter may not use aliases (484 bytes of nested aliases expanded to 600 MB: the "billion
  laughs") and may not exceed `MAX_FRONT_MATTER_BYTES`.
Each violation is a `SourceError` for that file: reported, skipped, and the run goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_JSON_DEPTH = 64
MAX_FRONT_MATTER_BYTES = 16_384


class SourceError(ValueError):
    """Raised inside a loader for a problem with the whole file."""


def outside_root(path: Path, root: Path) -> bool:
    """True when `path` (after resolving every symlink on the way) is not inside `root`."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a symlink loop
        return True
    base = root.resolve()
    return resolved != base and base not in resolved.parents


def json_depth(text: str) -> int:
    """The deepest nesting of [ and { in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def check_json_depth(text: str, where: str = "") -> None:
    """SourceError when the JSON nests deeper than MAX_JSON_DEPTH (checked before parsing)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return  # cannot be deeper than the number of brackets
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        prefix = f"{where}: " if where else ""
        raise SourceError(f"{prefix}JSON nested {depth} levels deep (the limit is {MAX_JSON_DEPTH})")


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: a front matter is a few plain keys, never shared nodes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


def load_front_matter(text: str) -> Any:
    """The YAML front matter, loaded safely (no tags, no aliases, bounded size)."""
    if len(text.encode()) > MAX_FRONT_MATTER_BYTES:
        raise SourceError(f"YAML front matter larger than {MAX_FRONT_MATTER_BYTES:,} bytes")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML front matter: {exc}".splitlines()[0]) from exc
    except RecursionError as exc:
        raise SourceError("YAML front matter nested too deeply") from exc
