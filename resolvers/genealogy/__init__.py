"""Lot genealogy: ``model`` and the pure breadth-first ``walk``; ``trace`` and ``recall`` run it over the loaders."""
