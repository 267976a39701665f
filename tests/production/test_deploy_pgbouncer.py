"""The pgbouncer deployment examples in deploy/ work as shipped (docs/operations.md, "pgbouncer").

- deploy/pgbouncer/pgbouncer.ini: a real pgbouncer runs with every pool and failure setting of
  the example (only addresses, files and user names are this test's own) and the app role
  queries through it in transaction mode;
- deploy/k8s: the ConfigMap declares DATABASE_POOLER=transaction and the pgbouncer Service
  listens on the example's port;
- the soak command docs/operations.md shows has the options it names.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import psycopg
import yaml

from tests.fixtures.pgbouncer import PgBouncer, require_pgbouncer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Settings that name this machine's addresses, files and users: the test's own.
LOCAL_KEYS = {"listen_addr", "listen_port", "auth_file", "logfile", "admin_users", "stats_users",
              "unix_socket_dir"}


def _example() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(comment_prefixes=(";",), inline_comment_prefixes=(";",))
    parser.read(DEPLOY / "pgbouncer" / "pgbouncer.ini")
    return parser


def test_the_example_config_runs_in_transaction_mode(database):
    require_pgbouncer()
    shipped = {k: v for k, v in _example()["pgbouncer"].items() if k not in LOCAL_KEYS}
    assert shipped["pool_mode"] == "transaction"
    assert shipped["auth_type"] == "scram-sha-256"
    assert int(shipped["server_login_retry"]) <= 2  # not the 15 s default
    assert int(shipped["query_wait_timeout"]) < 30  # below gunicorn's worker timeout
    bouncer = PgBouncer(database.app_url, settings=shipped).start()
    try:
        config = {row["key"]: row["value"] for row in bouncer.show("CONFIG")}
        for key, value in shipped.items():
            assert config[key] == value, key
        with psycopg.connect(bouncer.url.replace("+psycopg", ""), prepare_threshold=None) as c:
            pids = set()
            for _ in range(3):
                pids.add(c.execute("SELECT pg_backend_pid()").fetchone()[0])
                c.commit()
            assert c.info.backend_pid not in pids  # pgbouncer answered the log-in itself
    finally:
        bouncer.cleanup()


def test_the_k8s_manifests_put_the_app_behind_pgbouncer():
    configmap = yaml.safe_load((DEPLOY / "k8s" / "configmap.yaml").read_text())
    assert configmap["data"]["DATABASE_POOLER"] == "transaction"
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "pgbouncer.yaml").read_text()))
    service = next(d for d in documents if d["kind"] == "Service")
    assert service["spec"]["ports"][0]["port"] == int(_example()["pgbouncer"]["listen_port"])
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_soak_command_of_the_docs_exists():
    """docs/operations.md shows ``python3 dev.py bench --soak``: dev.py hands ``--soak`` to
    ``python -m bench.run``, whose options are checked here through the real command line."""
    shown = subprocess.run([sys.executable, "-m", "bench.run", "--help"], capture_output=True,
                           text=True, cwd=DEPLOY.parent, timeout=120, check=True).stdout
    for option in ("--soak", "--soak-requests", "--soak-clients", "--soak-pool",
                   "--soak-tenants", "--workers"):
        assert option in shown, option
    assert "python3 dev.py bench --soak" in (DEPLOY.parent / "docs" / "operations.md").read_text()
