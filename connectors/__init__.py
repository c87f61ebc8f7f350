"""Sources -> raw, nothing else: extract from the SaaS APIs over HTTP and load raw tables.

Core: ``http_client`` (the one HTTP client), ``paginators`` (one per API style), ``stream``
(the stream contract), ``sync`` (run a stream, commit data and state at checkpoints),
``loader`` (COPY and merge), ``state``, ``schema`` (raw DDL), ``config`` (a source's
settings), ``registry`` (the one catalogue of sources and streams). One subpackage per
vendor: ``hubspot``, ``stripe``, ``mixpanel`` (its client and its streams).
"""
