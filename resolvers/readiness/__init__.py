"""Shipment readiness. Pure: ``model`` (what a decision is made of), ``checks`` (each check) and ``rules``
(``evaluate``: which checks run, and the fail-closed status). ``service`` fetches the records and decides."""
