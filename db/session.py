"""Engines and sessions. SQLite by default (a file in NIANBAO_DATA_DIR), PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    """An engine; for SQLite one that can take concurrent writers from several processes."""
    u = make_url(url)
    # an error's text never carries the statement's values (a report's text, names, tokens)
    kwargs.setdefault("hide_parameters", True)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        # let SQLAlchemy, not the driver, open transactions (see _begin); WAL lets readers in
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # every transaction takes the write lock at BEGIN and waits for it on the busy timeout:
        # a transaction that read first and wrote later would instead fail with "database is
        # locked" whenever another process wrote in between (SQLite cannot upgrade its read
        # lock then). Writers queue; this is the embedded default — PostgreSQL is for scale.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed if the block ends normally, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session


def redacted(url: str) -> str:
    """The URL with its password hidden: what may be shown or logged."""
    return make_url(url).render_as_string(hide_password=True)
