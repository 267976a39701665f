"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py 'core.wsgi:build_app()'``.

Sync workers, one per core plus one by default: requests are short and database-bound, and a
sync worker holds one pooled connection at a time, which keeps PostgreSQL's connection count
predictable (workers x SQLALCHEMY pool). Scale out with more pods, not more threads.
"""

import multiprocessing
import os

bind = f"{os.environ.get('APP_HOST', '0.0.0.0')}:{os.environ.get('APP_PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000  # recycle workers to bound memory growth
max_requests_jitter = 1000
accesslog = None  # Tenantry writes its own access line with request id and tenant
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
