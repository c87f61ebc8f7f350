"""U+0000 (NUL): valid in JSON strings, impossible in PostgreSQL's text and jsonb.

The rule: the character is dropped from every string of a record, keys and values at any depth
(``"a\\u0000b"`` loads as ``"ab"``). It carries no meaning in what the sources send, and dropping
it keeps the rest of the record. The work is done on decoded values; the JSON text is only
searched, since ``\\u0000`` in the text may be an escaped backslash followed by ``u0000``, which
holds no NUL and must load as it is.

Two cases dropping cannot settle are malformed (``ValueError``; the sync rejects them under
``reject_malformed``): a NUL in the primary key (without it the key could be another record's),
and two keys of one object that become the same key.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from connectors.stream import Record

NUL = "\x00"
_ESCAPED = "\\u0000"  # how JSON text spells a NUL (also found in an escaped backslash + "u0000")


def storable(rec: Record) -> Record:
    """``rec`` ready for the loader: NULs dropped and its JSON text in ``raw`` (``rec`` itself when
    it came as text holding no NUL, as export lines nearly always do)."""
    if NUL in rec.pk:
        raise ValueError("primary key holds U+0000 (NUL), which PostgreSQL cannot store")
    text = rec.raw if rec.raw is not None else json.dumps(rec.data, separators=(",", ":"), ensure_ascii=False)
    clean = storable_text(text)
    if clean is rec.raw:
        return rec
    new = copy.copy(rec)
    # Record is frozen, and EventRecord builds itself without the dataclass __init__.
    object.__setattr__(new, "raw", clean)
    return new


def storable_text(text: str) -> str:
    """The JSON document ``text`` with NULs dropped from its decoded strings; ``text`` itself when
    it holds none (the common case costs one substring search)."""
    if _ESCAPED not in text:
        return text
    value = json.loads(text)
    clean = drop_nul(value)
    if clean == value:  # the escape was a backslash followed by "u0000"
        return text
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False)


def drop_nul(value: Any) -> Any:
    """``value`` (decoded JSON) with U+0000 dropped from every string, keys included."""
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, list):
        return [drop_nul(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if NUL in k:
                k = k.replace(NUL, "")
            if k in out:  # only possible once a NUL was dropped: JSON objects reach us with unique keys
                raise ValueError("two keys of an object are the same without U+0000 (NUL)")
            out[k] = drop_nul(v)
        return out
    return value
