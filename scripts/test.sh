#!/usr/bin/env bash
# The test command behind `make test`: lint, format check, types, then pytest.
# Database: $DATABASE_URL if set, else PostgreSQL on 127.0.0.1:5432 if it answers, else SQLite.
# Redis (for broker tests): $TEST_REDIS_URL if set, else 127.0.0.1:6379 if it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

answers() {  # host port
  "$PY" - "$1" "$2" <<'PYEOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
}

if [ -z "${DATABASE_URL:-}" ] && answers 127.0.0.1 5432; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/osseo_mdt"
fi
if [ -z "${TEST_REDIS_URL:-}" ] && answers 127.0.0.1 6379; then
  export TEST_REDIS_URL="redis://127.0.0.1:6379/15"
fi
# Tests run the embedded default unless a test brings up a broker itself.
unset CELERY_BROKER_URL
export DEBUG=True

echo "database: ${DATABASE_URL:-sqlite (default)}; redis: ${TEST_REDIS_URL:-none}"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
.venv/bin/pytest "$@"
