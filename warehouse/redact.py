"""The one place that hides secrets in text shown to people: URLs' passwords and known values.

``redact_url`` works on malformed URLs too (a password holding a raw ``#``, ``/``, ``@`` or
space), because those are exactly the ones that end up quoted in error messages.

    python -m warehouse.redact URL     prints the URL without its password (the Makefile's echo)
"""

from __future__ import annotations

import re
import sys
from urllib.parse import quote, unquote

MASK = "***"
# A password inside any URL or libpq conninfo quoted in free text (an error message).
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def _userinfo(url: str) -> tuple[int, int] | None:
    """Start and end of ``url``'s userinfo, or None. It runs to the LAST ``@``, so an unencoded
    ``@`` (or ``/``, ``#``, space) in a password stays inside it; a stray ``@`` further on only
    makes the redaction hide more, the safe way to be wrong."""
    start = url.find("://")
    if start < 0:
        return None
    start += 3
    end = url.rfind("@")
    return (start, end) if end > start else None


def url_password(url: str) -> str:
    """The password of ``url`` as written (still percent-encoded), or ""."""
    span = _userinfo(url)
    if span is None:
        return ""
    user, sep, password = url[span[0] : span[1]].partition(":")
    return password if sep else ""


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (the user, host and database stay)."""
    span = _userinfo(url)
    if span is None or ":" not in url[span[0] : span[1]]:
        return url
    user = url[span[0] : span[1]].partition(":")[0]
    return f"{url[: span[0]]}{user}:{MASK}{url[span[1] :]}"


def redact(text: str, *secrets: str) -> str:
    """``text`` without any of ``secrets``, whether it quotes them raw or percent-encoded."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), unquote(secret)}:
            if form:
                text = text.replace(form, MASK)
    return text


def redact_text(text: str, *secrets: str) -> str:
    """Free text (an error, a log line) without the passwords of the URLs and conninfo strings it
    quotes, nor any of ``secrets``."""
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _CONNINFO_PASSWORD.sub(rf"\1{MASK}", text)
    return redact(text, *sorted(secrets, key=len, reverse=True))


def redact_with_url(text: str, url: str) -> str:
    """``text`` (an error message, a report) without ``url``'s password in any form."""
    return redact(text.replace(url, redact_url(url)), url_password(url))


if __name__ == "__main__":
    print(" ".join(redact_url(arg) for arg in sys.argv[1:]))
