"""τ² JSON import/export: the real τ² retail db.json round-trips exactly; bad files give clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.shop.store import ShopDataError, ShopStore
from assistant.shop.tau2_io import check_format, read_tau2, write_tau2


def _round_trip(database_url: str, source: Path, out: Path) -> None:
    store = ShopStore(database_url)
    store.migrate()
    summary = store.import_data(read_tau2(source))
    assert (summary.products, summary.users, summary.orders) == (50, 500, 1000)
    write_tau2(store.export_data(), out)
    with out.open() as exported, source.open() as original:
        assert json.load(exported) == json.load(original)


def test_tau2_retail_round_trip_sqlite(tau2_retail_db_path: Path, tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'shop.db'}", tau2_retail_db_path, tmp_path / "out.json")


@pytest.mark.postgres
def test_tau2_retail_round_trip_postgres(
    tau2_retail_db_path: Path, postgres_url: str, tmp_path: Path
) -> None:
    _round_trip(postgres_url, tau2_retail_db_path, tmp_path / "out.json")


def test_tau2_model_dump_is_the_file(tau2_retail_db_path: Path) -> None:
    with tau2_retail_db_path.open() as handle:
        assert read_tau2(tau2_retail_db_path).to_tau2() == json.load(handle)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"{not json", "invalid JSON at line 1 column 2"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"products": {}, "users": {}}', "missing top-level key"),
        (b'{"products": {}, "users": {}, "orders": {"#W1": {"order_id": "#W1"}}}', "user_id"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "shop.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ShopDataError, match=message) as error:
        read_tau2(path)
    assert str(path) in str(error.value)


def test_a_directory_is_not_a_shop_file(tmp_path: Path) -> None:
    with pytest.raises(ShopDataError, match="not a regular file"):
        read_tau2(tmp_path)


def test_unknown_format_is_refused() -> None:
    check_format("tau2")
    with pytest.raises(ShopDataError, match="unsupported format 'csv'"):
        check_format("csv")


def test_write_is_atomic(tmp_path: Path, small_shop: object) -> None:
    out = tmp_path / "shop.json"
    out.write_text("previous")

    class Exploding:
        def to_tau2(self) -> dict[str, object]:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_tau2(Exploding(), out)  # type: ignore[arg-type]
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["shop.json"]  # no temporary left behind
