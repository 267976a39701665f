"""Tests against the real production parts: pgbouncer, gunicorn, PostgreSQL restarts, crashes."""
