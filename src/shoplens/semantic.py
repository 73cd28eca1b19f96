"""The semantic layer from Python: MetricFlow's engine over the dbt project's semantic manifest.

MetricFlow plans each query and renders its SQL for the target's dialect; the SQL then runs on
Shoplens's own connection (shoplens.warehouse), so no dbt adapter has to be set up in-process.
The semantic manifest is the one `dbt parse` / `dbt build` writes (target/semantic_manifest.json).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplens.errors import ShoplensError


class _RenderOnlySqlClient:
    """A MetricFlow SqlClient that only names the dialect: Shoplens runs the SQL itself."""

    def __init__(self, adapter_type: str) -> None:
        from dbt_metricflow.cli.dbt_connectors.adapter_backed_client import SupportedAdapterTypes

        self._adapter_type = SupportedAdapterTypes(adapter_type)

    @property
    def sql_engine_type(self) -> Any:
        return self._adapter_type.sql_engine_type

    @property
    def sql_plan_renderer(self) -> Any:
        return self._adapter_type.sql_plan_renderer

    def query(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Shoplens runs MetricFlow's SQL on its own connection")

    execute = dry_run = query

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return bind_parameter_key


def load_semantic_manifest(target_path: Path) -> Any:
    """The semantic manifest dbt wrote into target_path (run `dbt parse` first)."""
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )

    path = target_path / "semantic_manifest.json"
    if not path.is_file():
        raise ShoplensError(f"no {path}: run `dbt parse` (or `dbt build`) first")
    return parse_manifest_from_dbt_generated_manifest(
        manifest_json_string=path.read_text(encoding="utf-8")
    )


@dataclass
class SemanticLayer:
    """MetricFlow over one semantic manifest, rendering SQL for one engine (duckdb, postgres)."""

    target_path: Path
    engine: str

    def __post_init__(self) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = load_semantic_manifest(self.target_path)
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest),
            sql_client=_RenderOnlySqlClient(self.engine),
        )

    def sql(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        saved_query: str | None = None,
    ) -> str:
        """The SQL MetricFlow generates for these metrics at this grain, or for a saved query."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        if saved_query is not None:
            request = MetricFlowQueryRequest.create(saved_query_name=saved_query)
        else:
            request = MetricFlowQueryRequest.create(
                metric_names=list(metrics),
                group_by_names=list(group_by),
                where_constraints=list(where) or None,
            )
        return self._engine.explain(request).sql_statement.sql
