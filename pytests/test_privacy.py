"""Personal data is hashed with a secret salt, and the salt never appears in what dbt writes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import Warehouse
from test_load import event, write_landing

SECRET = "Kx7-secret-salt-for-this-test"


def test_secret_salt_hashes_ids_and_never_reaches_logs_or_artifacts(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = warehouse
    wh.env["SHOPLENS_PII_SALT"] = SECRET
    if wh.engine == "postgres":
        wh.env["PGOPTIONS"] = f"-c shoplens.pii_salt={SECRET}"
    write_landing(tmp_path, [json.dumps(event("e1", user_id="M42", anonymous_id="oSecretOpenid"))])
    phone = {"user_id": "M42", "registered_at": "2026-08-01T00:00:00Z", "phone": "13812345678"}
    write_landing(tmp_path, [json.dumps(phone)], table="users")
    loaded = wh.run("shoplens", "load", str(tmp_path / "landing"), "--target", wh.engine)
    built = wh.dbt("build", "--debug")

    stg = f"{wh.schema}_staging"
    expected = {
        value: hashlib.sha256((SECRET + value).encode()).hexdigest()
        for value in ("oSecretOpenid", "M42", "13812345678")
    }
    assert wh.query(
        f"select anonymous_id_hash, user_id_hash from {stg}.stg_mini_program__events"
    ) == [(expected["oSecretOpenid"], expected["M42"])]
    assert wh.query(f"select user_id_hash, phone_hash from {stg}.stg_order_system__users") == [
        (expected["M42"], expected["13812345678"])
    ]
    assert "public demo salt" not in built.stdout

    # Not in anything dbt printed or wrote (debug log, compiled and run SQL, manifest, ...).
    written = [
        p for folder in ("logs", "target") for p in (tmp_path / folder).rglob("*") if p.is_file()
    ]
    assert any(p.name == "dbt.log" for p in written) and any(p.suffix == ".sql" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in loaded.stdout + loaded.stderr + built.stdout + built.stderr


def test_models_that_hash_personal_data_are_not_views() -> None:
    """A view would hash at query time with the querying session's salt (or none at all)."""
    import yaml

    from conftest import ROOT

    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["models"]["shoplens"]
    hashing = [p for p in (ROOT / "models").rglob("*.sql") if "hash_pii(" in p.read_text()]
    assert hashing
    for path in hashing:
        config = project
        materialized = config.get("+materialized")
        for part in path.relative_to(ROOT / "models").parts[:-1]:
            config = config.get(part, {})
            materialized = config.get("+materialized", materialized)
        text = path.read_text()
        for kind in ("incremental", "table"):
            if f"materialized='{kind}'" in text:
                materialized = kind
        assert materialized in ("table", "incremental"), f"{path} hashes personal data as a view"
