"""Read and write shop data as τ²-bench retail JSON (db.json: products, users, orders keyed by id)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from assistant.shop.schema import ShopData
from assistant.shop.validation import ShopDataError, validate_shop_data

# τ²'s retail db.json is about 1.5 MB; anything past this is not a shop file we should parse into memory.
MAX_TAU2_FILE_BYTES = 512 * 1024 * 1024

SUPPORTED_FORMATS = ("tau2",)


def check_format(fmt: str) -> None:
    if fmt not in SUPPORTED_FORMATS:
        raise ShopDataError(f"unsupported format {fmt!r}; supported: {', '.join(SUPPORTED_FORMATS)}")


def read_tau2(path: Path) -> ShopData:
    """Parse a τ² db.json file; any problem (missing, unreadable, not JSON, wrong shape): ShopDataError."""
    if not path.exists():
        raise ShopDataError(f"{path}: no such file")
    if not path.is_file():
        raise ShopDataError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise ShopDataError(f"{path}: file is empty")
    if size > MAX_TAU2_FILE_BYTES:
        raise ShopDataError(f"{path}: file is {size} bytes, more than the {MAX_TAU2_FILE_BYTES} allowed")
    try:
        with path.open(encoding="utf-8") as handle:
            raw = json.load(handle)
    except UnicodeDecodeError as exc:
        raise ShopDataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ShopDataError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except OSError as exc:
        raise ShopDataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return validate_shop_data(raw)
    except ShopDataError as exc:
        raise ShopDataError(f"{path}: {exc}") from None


def write_tau2(data: ShopData, path: Path) -> None:
    """Write `data` as τ² JSON; written to a temporary file first, so a failure leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data.to_tau2(), out, indent=4, ensure_ascii=False)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
