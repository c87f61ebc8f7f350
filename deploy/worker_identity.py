"""`[core] hostname_callable` for several Celery workers on one machine (deploy/scale_out.py).

Airflow stores on every task instance the hostname its task process reported. Workers on
separate machines (or containers, as in docker-compose.yml) report separate names; two workers
on one host would both report the host's, and nobody could tell who ran what. Each worker gets
its own name in POSTSALE_WORKER_NAME; the task processes it forks inherit it.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("POSTSALE_WORKER_NAME") or socket.getfqdn()
