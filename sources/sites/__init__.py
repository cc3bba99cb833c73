"""Several sites (plants), each with its own four systems, behind the one set of ports (docs/sites.md).

``compose`` wraps each site's adapters into one adapter per system kind: ids qualified by site, reads fanned out
to the sites of their ids (one batched call per site, in parallel), searches over every site, commands sent to
the lot's site, genealogy linked across sites by receipts (``sources.sites.mes``).
"""
