"""Warehouse resolution: one rule for the demo, the tests, the DAGs and the dbt profile.

``WAREHOUSE_URL`` wins when it is set. Otherwise an embedded PostgreSQL (the binaries shipped
in the ``pgserver`` wheel) is started under ``.local/pg`` on 127.0.0.1 and reused across runs.
It listens on TCP rather than a unix socket because cosmos' Asset URIs need a host.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postsale"
# pgserver refuses to run postgres as root; so do we, for the same reason initdb does.
EMBEDDED_SYSTEM_USER = "pgserver"
# Session settings for dbt's connections, passed as libpq's PGOPTIONS (dbt-postgres has no
# profile field for them; its connections then get them on every model and test), and for GX's
# engine (expectations/runner.py), which reads the same freshly written tables.
# JIT off: PostgreSQL compiles any query whose *estimated* cost passes jit_above_cost, and
# a model reading a table dbt just created has no statistics yet, so estimates run to
# hundreds of millions of rows. Measured at 2,000 accounts: compiling took 3.7 s of a 5.0 s
# query on fct_user_adoption_daily's incremental build; the incremental build's node time
# fell from 236 s to 177 s with it off (docs/PERFORMANCE.md).
SESSION_OPTIONS = "-c jit=off"


def local_dir() -> Path:
    """Where embedded state lives (``POSTSALE_LOCAL_DIR``, default ``<repo>/.local``)."""
    return Path(os.environ.get("POSTSALE_LOCAL_DIR", PROJECT_ROOT / ".local")).resolve()


@dataclass(frozen=True)
class WarehouseParams:
    """The parts of a PostgreSQL URL, as dbt's profile and libpq want them."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> WarehouseParams:
        parts = urlsplit(url)
        if parts.scheme.split("+")[0] not in ("postgres", "postgresql"):
            raise ValueError(f"warehouse URL must be postgresql://…, got scheme {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("warehouse URL must contain a host (unix sockets are not supported)")
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=(parts.path.lstrip("/") or DEFAULT_DATABASE),
        )

    def url(self, dbname: str | None = None, driver: str = "postgresql") -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"{driver}://{auth}@{self.host}:{self.port}/{dbname or self.dbname}"

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by ``dbt_project/profiles.yml``."""
        return {
            "WAREHOUSE_HOST": self.host,
            "WAREHOUSE_PORT": str(self.port),
            "WAREHOUSE_USER": self.user,
            "WAREHOUSE_PASSWORD": self.password,
            "WAREHOUSE_DBNAME": self.dbname,
            "PGOPTIONS": session_options(),
        }


def session_options() -> str:
    """libpq options for dbt's and GX's sessions: ``POSTSALE_DBT_PGOPTIONS``, default ``-c jit=off``."""
    return os.environ.get("POSTSALE_DBT_PGOPTIONS", SESSION_OPTIONS)


class EmbeddedPostgres:
    """A PostgreSQL cluster kept under ``<local_dir>/pg``, started on demand on 127.0.0.1."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or local_dir() / "pg").resolve()
        self.data = self.root / "data"
        self.port_file = self.root / "port"
        self.logfile = self.root / "postgres.log"

    @staticmethod
    def bin_dir() -> Path:
        return Path(_pgserver()._commands.POSTGRES_BIN_PATH)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if os.geteuid() == 0:
            kwargs["user"] = EMBEDDED_SYSTEM_USER
        cmd = [str(self.bin_dir() / args[0]), *args[1:]]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, **kwargs)
        if check and res.returncode != 0:
            raise RuntimeError(
                f"embedded PostgreSQL: `{' '.join(args)}` failed ({res.returncode}): "
                f"{res.stderr.strip() or res.stdout.strip()} — see {self.logfile}"
            )
        return res

    def _prepare_permissions(self) -> None:
        """When root, hand the cluster directory to an unprivileged system user."""
        if os.geteuid() != 0:
            return
        utils = _pgserver().utils
        entry = utils.ensure_user_exists(EMBEDDED_SYSTEM_USER)
        utils.ensure_prefix_permissions(self.root)
        utils.ensure_prefix_permissions(self.bin_dir())
        utils.ensure_folder_permissions(self.bin_dir(), 0o055)
        utils.ensure_folder_permissions(self.bin_dir().parent / "lib", 0o044)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        for path in self.root.rglob("*"):
            if path.stat().st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def port(self) -> int:
        if self.port_file.exists():
            return int(self.port_file.read_text().strip())
        port = free_port()
        self.port_file.write_text(f"{port}\n")
        return port

    def is_running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        return self._run(["pg_ctl", "-D", str(self.data), "status"], check=False).returncode == 0

    def ensure_running(self) -> int:
        """Initialise and start the cluster if needed; return its TCP port. Safe across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.root.parent / "pg.lock"):
            self._prepare_permissions()
            if not (self.data / "PG_VERSION").exists():
                log.info("initialising embedded PostgreSQL in %s", self.data)
                self._run(
                    [
                        "initdb",
                        "-D",
                        str(self.data),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-instructions",
                    ]
                )
            port = self.port()
            if self.is_running() and _answers("127.0.0.1", port):
                return port
            if not _port_free(port):  # someone else took our port since the last run
                port = free_port()
                self.port_file.write_text(f"{port}\n")
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                # Full refreshes at benchmark size write GBs: fewer forced checkpoints, more cache.
                "-c max_wal_size=8GB -c shared_buffers=1GB"
            )
            log.info("starting embedded PostgreSQL on 127.0.0.1:%s", port)
            self._run(
                [
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.logfile),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            )
            return port

    def stop(self) -> None:
        if self.is_running():
            self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])


def _pgserver():
    """Import pgserver (for its binaries and permission helpers), silencing its import-time warning."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR; not ours to fix
        warnings.simplefilter("ignore")
        import pgserver._commands
        import pgserver.utils

    return pgserver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        # Like postgres itself: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _answers(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """True once ``host:port`` accepts a TCP connection, False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(host, port, timeout=1.0):
            return True
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_database(admin_url: str, dbname: str) -> None:
    """Create ``dbname`` on the server behind ``admin_url`` if it does not exist."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def admin_url() -> str:
    """A URL to a maintenance database on the warehouse's server (for creating databases)."""
    if os.environ.get("WAREHOUSE_ADMIN_URL"):
        return os.environ["WAREHOUSE_ADMIN_URL"]
    if os.environ.get("WAREHOUSE_URL"):
        return WarehouseParams.from_url(os.environ["WAREHOUSE_URL"]).url(dbname="postgres")
    port = EmbeddedPostgres().ensure_running()
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def resolve_warehouse_url() -> str:
    """The one rule: ``WAREHOUSE_URL`` when set, else the embedded server's ``postsale`` database."""
    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    port = EmbeddedPostgres().ensure_running()
    ensure_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", DEFAULT_DATABASE)
    return f"postgresql://postgres@127.0.0.1:{port}/{DEFAULT_DATABASE}"


def warehouse_params() -> WarehouseParams:
    return WarehouseParams.from_url(resolve_warehouse_url())


def connect(url: str | None = None, **kwargs):
    """A psycopg 3 connection to the warehouse."""
    import psycopg

    return psycopg.connect(url or resolve_warehouse_url(), **kwargs)


def wait_until_answers(url: str, timeout: float = 30.0) -> None:
    """Block until the server at ``url`` accepts a query (used right after starting it)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("select 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
