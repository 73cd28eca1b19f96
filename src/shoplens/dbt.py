"""Run dbt in-process (dbt's programmatic API) against this repository's project and profiles."""

from __future__ import annotations

import os
from pathlib import Path

from shoplens.errors import ShoplensError


def project_dir() -> Path:
    """The Shoplens dbt project: the first folder upwards from here with a dbt_project.yml."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").is_file() and (folder / "profiles.yml").is_file():
            return folder
    raise ShoplensError(
        f"no dbt_project.yml with profiles.yml in {here} or above: run shoplens from the repository"
    )


def schema_name(layer: str) -> str:
    """Schema dbt builds a layer into: <SHOPLENS_SCHEMA>_<layer> (dbt's default naming)."""
    return f"{os.environ.get('SHOPLENS_SCHEMA', 'analytics')}_{layer}"


def pass_salt_to_postgres() -> None:
    """Hand SHOPLENS_PII_SALT to PostgreSQL sessions as the setting shoplens.pii_salt (through
    libpq's PGOPTIONS), so the hashing SQL can read it without the salt appearing in any SQL."""
    salt = os.environ.get("SHOPLENS_PII_SALT")
    options = os.environ.get("PGOPTIONS", "")
    if salt and "shoplens.pii_salt" not in options:
        escaped = salt.replace("\\", "\\\\").replace(" ", "\\ ")
        os.environ["PGOPTIONS"] = f"{options} -c shoplens.pii_salt={escaped}".strip()


def run_dbt(args: list[str], target: str) -> None:
    from dbt.cli.main import dbtRunner

    if target == "postgres":
        pass_salt_to_postgres()
    root = project_dir()
    result = dbtRunner().invoke(
        [*args, "--target", target, "--project-dir", str(root), "--profiles-dir", str(root)]
    )
    if not result.success:
        raise ShoplensError(
            f"dbt {' '.join(args)} failed on target {target} (see dbt's output above)"
        )
