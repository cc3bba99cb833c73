"""Holds: placeHold and releaseHold, the pending actions they leave, their recovery after a crash, and the hold
history.

Pure (no I/O; table-tested in tests/unit/test_holds_*.py):
    ``model``     pending actions: the record, its codec, its transitions
    ``plan``      what a command does for each lot, from what the QMS said
    ``saga``      the saga record written before the first upstream command, and what recovery leaves
    ``history``   the audit trail entries, derived from the events, and their CSV
    ``outcomes``  the answers of the commands, and their JSON kept with the idempotency key
    ``requests``, ``policy``, ``problems``
Over the ports (sources, store, bus):
    ``service``   the commands; ``steps`` one pending action; ``recovery`` a dead command; ``worker`` the loop;
    ``queries``, ``operator`` (retry or close an action); ``events``, ``scope``, ``idempotency``
"""
