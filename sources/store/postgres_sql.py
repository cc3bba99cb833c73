"""The statements of the PostgreSQL store that several of its calls share or that are long."""

ACTION_COLUMNS = "id, status, lot_id, created_at, updated_at, due_at, body"

CLAIM_READ = "SELECT fingerprint, state, lease_until, result, expires_at FROM idempotency WHERE key = $1 FOR UPDATE"
CLAIM_NEW = (
    "INSERT INTO idempotency (key, fingerprint, state, token, lease_until, result, expires_at)"
    " VALUES ($1, $2, 'running', $3, $4, NULL, $5) ON CONFLICT (key) DO NOTHING RETURNING 1"
)
CLAIM_REPLACE = (
    "UPDATE idempotency SET fingerprint = $2, state = 'running', token = $3, lease_until = $4, result = NULL,"
    " expires_at = $5 WHERE key = $1"
)
FENCE = "UPDATE idempotency SET lease_until = $3 WHERE key = $1 AND token = $2"
FENCE_LOST = "SELECT result FROM idempotency WHERE key = $1"
LEASE_DUE = (
    "UPDATE pending_actions SET due_at = $1 WHERE id IN (SELECT id FROM pending_actions"
    " WHERE status = $2 AND due_at <= $3 ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)"
    f" RETURNING {ACTION_COLUMNS}"
)
