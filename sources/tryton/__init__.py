"""Adapters of the four ports over a live Tryton 8.2 (JSON-RPC), its change feed, and how Tryton maps to lotgraph.

docs/sources.md ("Connecting Tryton") writes the field map and the state mappings down.
"""
