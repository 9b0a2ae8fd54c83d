"""The session's own PostgreSQL server (tests/pgserver.py) and its per-test databases."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

PUBLIC_TABLES = "select table_name from information_schema.tables where table_schema = 'public'"


def test_server_answers(pg_server):
    with psycopg.connect(**pg_server.connect_kwargs(), connect_timeout=10) as conn:
        version = conn.execute("select version()").fetchone()[0]
    assert version.startswith("PostgreSQL ")
    assert (pg_server.host, pg_server.user) == ("127.0.0.1", "postgres")


def test_noproc_is_bound_to_our_server(pg_noproc, pg_server):
    assert (pg_noproc.host, pg_noproc.port) == (pg_server.host, pg_server.port)


def test_plugin_names_are_ours(postgresql_noproc, postgresql, pg_noproc, pg_conn):
    # Holds when tests.pgserver comes from pytest_plugins in conftest (see its docstring).
    assert postgresql_noproc is pg_noproc
    assert postgresql is pg_conn


@pytest.fixture(scope="module")
def seen_tables():
    """Tables each test of the pair below found on arrival, by test name."""
    return {}


# The pair runs in file order: the second must not see what the first created.
@pytest.mark.parametrize("name", ["first", "second"])
def test_each_test_gets_an_empty_database(name, pg_url, pg_conn, seen_tables):
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert pg_url.rsplit("/", 1)[1] == pg_conn.info.dbname
    with pg_conn.cursor() as cur:
        seen_tables[name] = [row[0] for row in cur.execute(PUBLIC_TABLES)]
        cur.execute(f"create table made_by_{name} (id int)")
    pg_conn.commit()
    assert seen_tables[name] == []


def test_sqlalchemy_connects(pg_url):
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select current_database()")).scalar_one() == pg_url.rsplit("/", 1)[1]
    finally:
        engine.dispose()


_leaked: dict[str, object] = {}


def test_teardown_drops_database_despite_open_connection(pg_url):
    # Deliberately leaks a connection inside a transaction holding a lock; the database's drop
    # at teardown must still succeed (pytest-postgresql terminates the backend first).
    engine = sa.create_engine(pg_url)
    conn = engine.connect()
    conn.execute(sa.text("create table held (id int)"))
    conn.execute(sa.text("lock table held in access exclusive mode"))
    _leaked.update(engine=engine, conn=conn)  # kept alive for the next test to check


def test_database_dropped_after_previous_test(pg_server, pg_url):
    # Recreated from the empty template: the leaked test's table is gone.
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text(PUBLIC_TABLES)).all() == []
    finally:
        engine.dispose()
    if not _leaked:
        return  # run on its own (-k): nothing was leaked
    with pytest.raises(sa.exc.DBAPIError):
        _leaked["conn"].execute(sa.text("select 1"))  # its backend was terminated at the drop
    _leaked["conn"].invalidate()
    _leaked.pop("engine").dispose()
