"""Start local service processes, wait until they are ready, and stop every one of them.

Each process gets its own session (process group), so stopping it also stops what it forked:
Celery's pool processes, the task supervisors and the tasks themselves, the api-server's
uvicorn workers. A leader is never reaped before its group is killed: while it is alive or a
zombie its pid, which is the group id, cannot be reused by some unrelated process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Supervisor:
    log_dir: Path
    services: list[Service] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        svc = Service(name, proc, log)
        self.services.append(svc)
        return svc

    def wait_until(self, svc: Service, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until it holds; fail early if the process died, late after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not ready():
            if (status := _exit_status(svc.proc)) is not None:
                raise RuntimeError(f"{svc.name} ended ({status}) before {what}:\n{svc.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{svc.name}: no {what} after {timeout:.0f} s:\n{svc.tail()}")
            time.sleep(0.5)

    def check_alive(self) -> None:
        for svc in self.services:
            if (status := _exit_status(svc.proc)) is not None:
                raise RuntimeError(f"{svc.name} ended ({status}):\n{svc.tail()}")

    def stop_all(self, grace: float = 30.0) -> list[str]:
        """SIGTERM every process group (newest first), SIGKILL what is left after ``grace`` s.

        Returns the names of the services that had to be killed."""
        for svc in reversed(self.services):
            _signal_group(svc.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        killed = []
        for svc in reversed(self.services):
            while _exit_status(svc.proc) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            if _exit_status(svc.proc) is None:
                killed.append(svc.name)
            # Also when the leader exited: children it forked may linger in its group.
            _signal_group(svc.proc, signal.SIGKILL)
            svc.proc.wait()
        return killed


def _exit_status(proc: subprocess.Popen) -> str | None:
    """How the process ended, without reaping it (None while it runs)."""
    if proc.returncode is not None:
        return f"status {proc.returncode}"
    info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if info is None:
        return None
    if info.si_code == os.CLD_EXITED:
        return f"status {info.si_status}"
    return f"signal {signal.Signals(info.si_status).name}"  # killed by someone else


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the leader's pid
    except ProcessLookupError:
        pass
