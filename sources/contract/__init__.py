"""Adapters for systems that speak lotgraph's HTTP contract (docs/sources.md): one per system over the shared
client base (``sources.http``), and ``parse``, which reads the contract's JSON into records."""
