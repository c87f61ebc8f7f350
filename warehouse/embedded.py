"""The embedded PostgreSQL: the binaries shipped in the ``pgserver`` wheel, run under ``.local/pg``.

It listens on 127.0.0.1 rather than a unix socket because cosmos' Asset URIs need a host. Also
the small TCP helpers the Makefile uses (a free port, waiting for a port to answer).
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
from pathlib import Path

from warehouse.paths import local_dir

log = logging.getLogger(__name__)

# pgserver refuses to run postgres as root; so do we, for the same reason initdb does.
EMBEDDED_SYSTEM_USER = "pgserver"


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
