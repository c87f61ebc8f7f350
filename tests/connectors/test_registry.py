"""The registry is the one stream catalogue: every stream declares its key and its source.
(That the dbt project reads exactly these raw tables: tests/expectations/test_suites_static.py.)"""

from __future__ import annotations

from connectors.registry import STREAM_NAMES, STREAMS, raw_tables


def test_every_stream_declares_key_and_source():
    for source, streams in STREAMS.items():
        for name, cls in streams.items():
            assert cls.source == source and cls.name == name
            assert cls.primary_key, f"{source}.{name} has no primary key"
            assert cls.write_mode in ("merge", "append_dedupe")


def test_names_and_raw_tables_derive_from_the_stream_classes():
    assert STREAM_NAMES == {s: tuple(streams) for s, streams in STREAMS.items()}
    assert raw_tables() == [f"{s}__{n}" for s, streams in STREAMS.items() for n in streams]
