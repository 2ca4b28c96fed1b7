"""A database already at the newest revision is recognised without Alembic; anything else is migrated."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from assistant.db import MIGRATIONS_DIR, head_revision, is_current, make_engine, migrate


def test_the_head_read_as_text_is_alembics_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_only_a_database_at_the_head_skips_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert not is_current(url)  # empty: no version table
    migrate(url)
    assert is_current(url)
    with make_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_shop'"))
    assert not is_current(url)  # behind: the next migrate runs Alembic again
