"""A benchmark-only plugin whose one migration adds a column to the shared ``products`` table.

``bench.scaling`` passes it to ``create_app`` (``EXTRA_PLUGINS``) to time ``migrate-all`` with a
pending schema change at 10 and at 10,000 tenants: with shared tables the change is one
``ALTER TABLE`` whatever the tenant count (a nullable column without a default is a catalogue
change in PostgreSQL, not a table rewrite).
"""

from core.plugins import Module, hookimpl
from core.schema_migrations import plugin_folder

MODULE_KEY = "benchprobe"


@hookimpl
def tenantry_module():
    return Module(key=MODULE_KEY, name="Bench probe", version="0.1.0", requires=("catalog",),
                  description="Benchmark only: adds products.bench_probe_note")


@hookimpl
def tenantry_migration_folder():
    return plugin_folder(__file__)
