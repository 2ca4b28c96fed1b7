"""`parley import-orders`, `export-orders` and `generate-shop` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.shop.generator import DEMO_DELIVERED_ORDER_ID, DEMO_USER_EMAIL, DEMO_USER_ID, generate_shop
from assistant.shop.orders_index import OrdersIndex
from assistant.shop.store import ShopStore
from knowledge.settings import Settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commands read Settings from the environment: point every path at this test's tmp dir."""
    data_dir = tmp_path / "parley"
    monkeypatch.chdir(tmp_path)  # no stray .env from the repository
    monkeypatch.setenv("PARLEY_DATA_DIR", str(data_dir))
    for name in (
        "PARLEY_DATABASE_URL",
        "PARLEY_CHROMA_URL",
        "PARLEY_CHROMA_PATH",
        "PARLEY_ORDERS_COLLECTION",
    ):
        monkeypatch.delenv(name, raising=False)
    return data_dir


def _json(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def test_import_then_export_is_identity(tau2_retail_db_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    result = runner.invoke(
        app,
        ["import-orders", str(tau2_retail_db_path), "--format", "tau2", "--database-url", url, "--no-index"],
    )
    assert result.exit_code == 0, result.output
    assert "50 products (591 variants), 500 users" in result.output
    assert "1000 orders (2978 items)" in result.output
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["export-orders", str(out), "--format", "tau2", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert _json(out) == _json(tau2_retail_db_path)


@pytest.mark.postgres
def test_import_then_export_is_identity_on_postgres(
    tau2_retail_db_path: Path, postgres_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["import-orders", str(tau2_retail_db_path), "--database-url", postgres_url, "--no-index"]
    )
    assert result.exit_code == 0, result.output
    assert "postgres" in result.output
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["export-orders", str(out), "--database-url", postgres_url])
    assert result.exit_code == 0, result.output
    assert _json(out) == _json(tau2_retail_db_path)


def test_default_database_is_in_the_data_dir(tmp_path: Path, isolated_data_dir: Path) -> None:
    shop_file = tmp_path / "shop.json"
    assert (
        runner.invoke(
            app, ["generate-shop", "--users", "5", "--orders", "8", "--out", str(shop_file)]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["import-orders", str(shop_file), "--no-index"])
    assert result.exit_code == 0, result.output
    assert (isolated_data_dir / "parley.db").exists()
    with ShopStore(f"sqlite:///{isolated_data_dir / 'parley.db'}").transaction() as shop:
        assert shop.find_user_ids_by_email(DEMO_USER_EMAIL) == [DEMO_USER_ID]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{oops", "invalid JSON"),
        ('{"products": {}, "users": {}}', "missing top-level key(s): orders"),
        ('{"products": {}, "users": {"u": {"user_id": "u"}}, "orders": {}}', "users.u.name"),
        ('{"products": {}, "users": {}, "orders": {"#W1": 5}}', "orders.#W1"),
    ],
)
def test_bad_input_fails_clearly_and_writes_nothing(
    tmp_path: Path, content: str | None, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = ShopStore(url)
    store.migrate()
    store.import_data(generate_shop(seed=1, users=4, orders=6))
    before = store.export_data().to_tau2()
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["import-orders", str(path), "--database-url", url, "--no-index"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert store.export_data().to_tau2() == before


def test_inconsistent_data_is_rolled_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = ShopStore(url)
    store.migrate()
    store.import_data(generate_shop(seed=1, users=4, orders=6))
    before = store.export_data().to_tau2()
    raw = generate_shop(seed=2, users=4, orders=6).to_tau2()
    raw["orders"][DEMO_DELIVERED_ORDER_ID]["user_id"] = "ghost_user_0001"
    path = tmp_path / "input.json"
    path.write_text(json.dumps(raw))
    result = runner.invoke(app, ["import-orders", str(path), "--database-url", url, "--no-index"])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output and "ghost_user_0001" in result.output
    assert store.export_data().to_tau2() == before


def test_unknown_format_is_refused(tmp_path: Path, tau2_retail_db_path: Path) -> None:
    result = runner.invoke(app, ["import-orders", str(tau2_retail_db_path), "--format", "csv", "--no-index"])
    assert result.exit_code == 1 and "unsupported format 'csv'" in result.output
    result = runner.invoke(app, ["export-orders", str(tmp_path / "x.csv"), "--format", "csv"])
    assert result.exit_code == 1 and "unsupported format 'csv'" in result.output


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    shop_file = tmp_path / "shop.json"
    runner.invoke(app, ["generate-shop", "--users", "5", "--orders", "8", "--out", str(shop_file)])
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    result = runner.invoke(app, ["import-orders", str(shop_file), "--database-url", url, "--no-index"])
    assert result.exit_code == 1
    assert "database error" in result.output and "Traceback" not in result.output


def test_generate_shop_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        result = runner.invoke(
            app, ["generate-shop", "--seed", "5", "--users", "30", "--orders", "50", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert "Maple & Moss" in result.output and DEMO_USER_ID in result.output
    assert first.read_bytes() == second.read_bytes()
    assert _json(first) == generate_shop(seed=5, users=30, orders=50).to_tau2()


def test_generate_shop_load_without_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    result = runner.invoke(
        app,
        ["generate-shop", "--users", "12", "--orders", "20", "--load", "--database-url", url, "--no-index"],
    )
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output and "Indexed" not in result.output
    assert ShopStore(url).export_data().to_tau2() == generate_shop(users=12, orders=20).to_tau2()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "nothing to do"),
        (["--users", "1", "--load"], "users must be between"),
        (["--orders", "0", "--out", "x.json"], "orders must be between"),
    ],
)
def test_generate_shop_bad_arguments(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["generate-shop", *arguments])
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.slow
def test_load_indexes_orders_and_reimport_embeds_nothing(tmp_path: Path, isolated_data_dir: Path) -> None:
    shop_file = tmp_path / "shop.json"
    result = runner.invoke(
        app, ["generate-shop", "--users", "8", "--orders", "15", "--out", str(shop_file), "--load"]
    )
    assert result.exit_code == 0, result.output
    assert "15 embedded, 0 unchanged" in result.output
    result = runner.invoke(app, ["import-orders", str(shop_file)])
    assert result.exit_code == 0, result.output
    assert "0 embedded, 15 unchanged" in result.output
    settings = Settings(data_dir=isolated_data_dir, _env_file=None)  # type: ignore[call-arg]
    hits = OrdersIndex(settings).search_orders(DEMO_USER_ID, "my blue water bottle order", k=1)
    assert [hit.order_id for hit in hits] == [DEMO_DELIVERED_ORDER_ID]
    # A smaller shop replaces the old one, and its index loses the orders that are gone.
    smaller = tmp_path / "smaller.json"
    runner.invoke(app, ["generate-shop", "--users", "2", "--orders", "5", "--out", str(smaller)])
    result = runner.invoke(app, ["import-orders", str(smaller)])
    assert result.exit_code == 0, result.output
    assert OrdersIndex(settings).count() == 5
