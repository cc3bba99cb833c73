"""The event bus: a durable, ordered event log with cursors, and fan-out to subscribers.

- ``sources.bus.sqlite.SqliteBus``: the embedded default, an append-only log in a SQLite file, fanned out in
  process (one replica);
- ``sources.bus.redis.RedisBus``: Redis Streams, one reader task per replica (several replicas).

Both implement ``sources.ports.EventBus`` with the same replay-then-live subscription (``sources.bus.fanout``);
``sources.bus.envelope`` is what every event carries.
"""
