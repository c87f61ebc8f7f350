"""Streams: one small class per endpoint, declaring its primary key, cursor and fields."""
