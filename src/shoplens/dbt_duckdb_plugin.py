"""A dbt-duckdb plugin that hands the PII salt to DuckDB sessions without putting it in SQL.

dbt writes every statement it runs to logs/dbt.log and target/; a salt inlined as a literal
would end up there. Instead, this plugin (enabled in profiles.yml) registers a function
`shoplens_pii_salt()` on each connection that returns SHOPLENS_PII_SALT, or the public demo salt
when it is not set. PostgreSQL gets the same value from the session setting
`shoplens.pii_salt` (PGOPTIONS); see macros/cross_db/hash.sql.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

DEMO_PII_SALT = "shoplens-demo-salt-not-secret"


def pii_salt() -> str:
    return os.environ.get("SHOPLENS_PII_SALT") or DEMO_PII_SALT


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        salt = pii_salt()
        conn.create_function("shoplens_pii_salt", lambda: salt, [], "VARCHAR", side_effects=False)
