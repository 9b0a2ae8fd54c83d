"""Pytest plugin: a throwaway PostgreSQL server for the whole test session.

Load it from the rootdir conftest with ``pytest_plugins = ["tests.pgserver"]``. Fixtures:

* ``pg_server`` (session): starts its own server (initdb + pg_ctl) on a free 127.0.0.1 port and
  yields a :class:`PgServer` (host, port, user, ...); stops it and removes its files at the end.
* ``pg_noproc`` (session): pytest-postgresql's noproc executor bound to ``pg_server``; it also
  makes the empty template database the per-test databases are copied from.
* ``pg_conn`` (function): pytest-postgresql's psycopg connection to a fresh, empty database made
  for the test and dropped after it.
* ``pg_url`` (function): a SQLAlchemy URL string for that same fresh database.
* ``postgresql_noproc`` / ``postgresql``: the two above under pytest-postgresql's own names,
  replacing its defaults (a server on port 5432; a server started as the current user, which
  fails as root). That replacement only holds when this module is registered after
  pytest-postgresql, i.e. through ``pytest_plugins`` in a conftest: ``-p tests.pgserver`` loads
  it before the installed plugins and theirs win. The ``pg_*`` names work either way.

Why not ``postgresql_proc``: ``initdb``/``pg_ctl`` refuse to run as root and CI runs as root, so
as root the server runs as the ``postgres`` OS user (via ``runuser``), which pytest-postgresql
cannot do.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_postgresql import factories

PG_USER = "postgres"  # database superuser made by initdb -U; also the OS user when we are root
TEST_DBNAME = "nianbao_test"  # pytest-postgresql makes <name>_tmpl once, then <name> per test
INSTALL_HINT = "install the server: apt-get install postgresql (or run scripts/setup)"
# Durability is pointless for a throwaway cluster; turning it off makes CREATE/DROP DATABASE fast.
SERVER_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


@dataclass(frozen=True)
class PgServer:
    """Connection details of the session's server.

    ``password``, ``options``, ``maintenance_dbname`` and ``template_dbname`` are the attributes
    pytest-postgresql's ``postgresql_noproc(depends_on=...)`` reads from the fixture it layers on;
    ``template_dbname=None`` makes it build its template from the server's ``template1``.
    """

    host: str
    port: int
    user: str
    datadir: Path
    logfile: Path
    password: str | None = None
    options: str = ""
    maintenance_dbname: str = "postgres"
    template_dbname: str | None = None

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``dbname`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def connect_kwargs(self, dbname: str = "postgres") -> dict[str, str | int]:
        """Keyword arguments for ``psycopg.connect``."""
        return {"host": self.host, "port": self.port, "user": self.user, "dbname": dbname}


def find_bindir() -> Path:
    """Directory holding initdb and pg_ctl; raises when the server is not installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    # pg_config may come from libpq-dev alone, or from a newer libpq than the installed server;
    # its bindir then lacks initdb, so fall back to the newest Debian server install.
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    checked = ", ".join(str(c) for c in candidates) or "nothing (no pg_config, no /usr/lib/postgresql)"
    raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found; checked {checked}. {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (start() retries if another process takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reachable_by_others(path: Path) -> bool:
    """Whether every directory up to ``path`` lets other users through (o+x)."""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


class _Cluster:
    """One initdb'd data directory and its server, run as ``postgres`` when we are root."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.prefix: list[str] = []
        parent = None
        if self.as_root:
            try:
                owner = pwd.getpwnam(PG_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, but there is no '{PG_USER}' OS user to run the server as; {INSTALL_HINT}"
                ) from None
            runuser = shutil.which("runuser")
            if not runuser:
                raise RuntimeError("running as root, but runuser (util-linux) is missing to drop to 'postgres'")
            self.prefix = [runuser, "-u", PG_USER, "--"]
            # postgres must be able to walk down to its directory: TMPDIR may be under /root.
            tmp = Path(tempfile.gettempdir())
            parent = str(tmp) if _reachable_by_others(tmp) else "/tmp"
        # mkdtemp gives a unique 0700 directory, so parallel sessions never share files.
        self.base = Path(tempfile.mkdtemp(prefix="nianbao-pg-", dir=parent))
        self.datadir = self.base / "data"
        self.sockdir = self.base / "sock"
        self.logfile = self.base / "server.log"
        self.sockdir.mkdir()
        if self.as_root:
            for path in (self.base, self.sockdir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.port = 0
        self.started = False

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # cwd: postgres may not be allowed into the caller's working directory.
        cmd = [*self.prefix, str(self.bindir / tool), *args]
        proc = subprocess.run(cmd, cwd=self.base, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    def initdb(self) -> None:
        common = ["-D", str(self.datadir), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"]
        first = self.run("initdb", *common, "--locale=C.UTF-8", check=False)
        if first.returncode != 0:
            # C.UTF-8 is missing on some systems; plain C sorts the same (bytewise) and always exists.
            shutil.rmtree(self.datadir, ignore_errors=True)
            second = self.run("initdb", *common, "--locale=C", check=False)
            if second.returncode != 0:
                raise RuntimeError(
                    "initdb failed with --locale=C.UTF-8 and with --locale=C:\n"
                    f"{first.stdout}{first.stderr}\n{second.stdout}{second.stderr}"
                )

    def start(self, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            opts = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {shlex.quote(str(self.sockdir))} "
                + SERVER_SETTINGS
            )
            args = ["-D", str(self.datadir), "-o", opts, "-w", "-t", "60", "-l", str(self.logfile), "start"]
            proc = self.run("pg_ctl", *args, check=False)
            if proc.returncode == 0:
                self.started = True
                return
            log = self.log()
            # Another process may grab the port between free_port() and the server's bind.
            if "could not bind" in log or "already in use" in log:
                if attempt < attempts:
                    self.stop()  # in case pg_ctl gave up while the postmaster lingers
                    continue
            raise RuntimeError(
                f"pg_ctl start failed ({proc.returncode}) on port {self.port}:\n{proc.stdout}{proc.stderr}\n"
                f"--- server log {self.logfile} ---\n{log}"
            )

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        if self.run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", check=False).returncode:
            self.run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def running_server() -> Iterator[PgServer]:
    """A throwaway server (initdb + start), stopped and removed on exit; for the session's
    fixture and for code outside pytest (benchmarks/status.py). Raises when not installed."""
    cluster = _Cluster(find_bindir())
    try:
        cluster.initdb()
        cluster.start()
        yield PgServer(
            host="127.0.0.1", port=cluster.port, user=PG_USER, datadir=cluster.datadir, logfile=cluster.logfile
        )
    finally:
        cluster.stop()
        cluster.remove()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of our own for the session (trust auth, superuser ``postgres``).

    Never skips: tests using it are meant to run on real PostgreSQL, so a missing install is an
    error naming the package to install.
    """
    with running_server() as server:
        yield server


# depends_on makes the noproc fixture take host/port/user/... from pg_server at fixture time
# (the factory's plain arguments are fixed at import, before the port is known).
pg_noproc = factories.postgresql_noproc(dbname=TEST_DBNAME, depends_on="pg_server")
pg_conn = factories.postgresql("pg_noproc")


# Aliases, not second factories: a second noproc fixture would create the same template database.
@pytest.fixture(scope="session")
def postgresql_noproc(pg_noproc):
    """``pg_noproc`` under pytest-postgresql's name (see the module docstring for when it applies)."""
    return pg_noproc


@pytest.fixture
def postgresql(pg_conn):
    """``pg_conn`` under pytest-postgresql's name (see the module docstring for when it applies)."""
    return pg_conn


@pytest.fixture
def pg_url(pg_conn, pg_server: PgServer) -> str:
    """SQLAlchemy URL ``postgresql+psycopg://postgres@127.0.0.1:PORT/DBNAME`` of a fresh, empty database.

    The database is created for this test from an empty template and dropped after it (``pg_conn``
    is a psycopg connection to the same database). The name is the same for every test (only one
    exists at a time), so do not cache engines by URL across tests. Dispose every engine you
    create (``engine.dispose()``) before the test ends: to drop the database, teardown terminates
    the connections still open to it, and whoever still holds those then gets errors.
    """
    return pg_server.url(pg_conn.info.dbname)
