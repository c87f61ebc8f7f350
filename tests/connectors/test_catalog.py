"""The parse-time stream catalogue names exactly the streams the connectors implement."""

from connectors.catalog import STREAM_NAMES
from connectors.sources import STREAMS


def test_catalog_matches_implemented_streams():
    assert {s: set(n) for s, n in STREAM_NAMES.items()} == {s: set(n) for s, n in STREAMS.items()}


def test_every_stream_declares_key_and_source():
    for source, streams in STREAMS.items():
        for name, cls in streams.items():
            assert cls.source == source and cls.name == name
            assert cls.primary_key, f"{source}.{name} has no primary key"
            assert cls.write_mode in ("merge", "append_dedupe")
