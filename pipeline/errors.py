"""One safe line for an error: what ``postsale`` prints instead of a traceback.

Safe means: one line, no credential, no record content. Our own errors already name what and
where without either. Database errors are rebuilt from their parts, because the driver's text
can quote the connection string (a password) or the offending values (an email); and whatever
the text, every credential the environment holds is masked before it is printed.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import unquote

from warehouse.redact import redact_text, url_password

MAX_CHARS = 600
# Environment variables whose values are (or hold) credentials.
_SECRET_NAMES = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|SERVICE_ACCOUNT|WEBHOOK|_URL$|^AIRFLOW_CONN_", re.IGNORECASE)


def one_line(exc: BaseException, limit: int = MAX_CHARS) -> str:
    """``exc`` as one line naming what failed, with every known secret masked, at most ``limit`` chars."""
    text = _database(exc) if _is_database_error(exc) else _plain(exc)
    text = "; ".join(part.strip() for part in text.splitlines() if part.strip()) or type(exc).__name__
    text = mask(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask(text: str) -> str:
    """``text`` without URL passwords and without any credential the environment holds."""
    return redact_text(text, *_secrets())


def _plain(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:  # str(KeyError) is the repr of its message
        return str(exc.args[0])
    return str(exc)


def _is_database_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


def _database(exc: BaseException) -> str:
    """The driver's error reduced to its class, SQLSTATE and the objects it names; never values."""
    import psycopg

    diag = getattr(exc, "diag", None)
    state = getattr(diag, "sqlstate", None) if diag else None
    if isinstance(exc, psycopg.OperationalError) and not state:
        first = (str(exc).splitlines() or [""])[0]
        return f"cannot connect to the warehouse: {first} (check WAREHOUSE_URL or the warehouse Connection)"
    if not state:  # a client-side error: a malformed connection string, a closed connection
        message = str(exc).lower()
        if "dsn" in message or "connection" in message or "conninfo" in message:
            return "the warehouse connection string is malformed (check WAREHOUSE_URL or the warehouse Connection)"
        return f"warehouse error {type(exc).__name__}"
    named = [
        f"{what} {value}"
        for what, value in (
            ("schema", diag.schema_name),
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("constraint", diag.constraint_name),
        )
        if value
    ]
    where = f" ({', '.join(named)})" if named else ""
    if state.startswith(("22", "23")):  # data and integrity errors quote the offending values: not shown
        return f"warehouse refused a value: {type(exc).__name__}, SQLSTATE {state}{where}"
    hint = "; the role may be read-only or lack a grant" if state == "42501" else ""
    return f"warehouse error: {diag.message_primary or type(exc).__name__} (SQLSTATE {state}){where}{hint}"


def _secrets() -> set[str]:
    found: set[str] = set()
    for name, value in os.environ.items():
        if not value or not _SECRET_NAMES.search(name):
            continue
        found |= _from_value(value)
        if re.search(r"KEY|TOKEN|SECRET|PASSWORD|WEBHOOK", name, re.IGNORECASE):  # the whole value is secret
            found.add(value)
    return {s for s in found if len(s) >= 4}


def _from_value(value: str) -> set[str]:
    """The password or secret inside a URL, a JSON Connection, or ``user:secret``."""
    if value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return set()
        return {str(data["password"])} if isinstance(data, dict) and data.get("password") else set()
    if "://" in value:
        password = url_password(value)  # also found in a malformed URL
        return {password, unquote(password)} if password else set()
    if ":" in value:  # a Mixpanel service account, username:secret
        return {value.partition(":")[2]}
    return {value}
