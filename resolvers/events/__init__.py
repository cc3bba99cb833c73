"""Events (DESIGN.md rules 4 and 5). Pure: ``catalog`` (every type and its payload schemas), ``json_schema`` (the
validator for them), ``normalize`` (webhook body to envelope), ``filters`` (what a subscriber follows). Services:
``intake`` (webhooks and dead letters onto the bus), ``streams`` (the subscriptions), ``cache_invalidation``,
``polling`` (changed records of systems that send no webhooks, onto the bus)."""
