"""Migrations, run from code (`nianbao db upgrade`) with the URL passed in, not written to a file."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

HERE = Path(__file__).parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(config(url), revision)


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(config("sqlite://")).get_heads())


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class SchemaOutOfDate(RuntimeError):
    pass


def ensure_schema(engine: Engine, url: str) -> None:
    """A brand-new, empty database is brought to the head revision; one with an older revision
    is not migrated behind the operator's back."""
    rev = current(engine)
    if rev is None and not inspect(engine).get_table_names():
        upgrade(url)
        return
    if rev not in heads():
        raise SchemaOutOfDate(f"database schema is at {rev or 'no revision'}; run `nianbao db upgrade`")
