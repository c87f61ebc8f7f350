"""Suites as code, one module per layer. Each exposes ``SUITES``: a list of ``TableSuite``."""
