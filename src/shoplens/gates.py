"""Structural gates: dbt-score rules that check the manifest against the house style.

The rules are dbt-project-evaluator's that fit this project (its names in brackets), written as
dbt-score rules because dbt-bouncer 4.3.0 needs duckdb<2 and this project pins duckdb 2.0.0.
They run in `make gates` (part of `make test`) over the manifest of a `dbt parse`; any violation
fails the command. `[tool.dbt-score]` in pyproject.toml enables them, and it is the one place for
exceptions: per rule, `exceptions = { <node> = "<reason>" }`, where <node> is a model or exposure
name, or `<source>.<table>` (or `<source>` for all its tables); an exception without a reason is
itself a violation.

No `from __future__ import annotations` here: dbt-score reads each rule's resource type from the
annotation of its first parameter at run time.
"""

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from dbt_score import Exposure, Model, RuleViolation, Severity, Source, rule

Evaluable = Model | Source | Exposure

# Layer folder under models/ -> what a model name there looks like. A staging name also carries
# its source: stg_<source>__<entity>, in models/staging/<source>/.
NAME_PATTERNS = {
    "intermediate": re.compile(r"int_[a-z0-9]+(?:__?[a-z0-9]+)*"),
    "marts": re.compile(r"(?:fct|dim|agg)_[a-z0-9]+(?:__?[a-z0-9]+)*"),
}
STAGING_ENTITY = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
ALLOWED_EXPOSURE_PARENTS = ("metric.", "semantic_model.", "saved_query.")


def _node_names(evaluable: Evaluable) -> tuple[str, ...]:
    """The names an exception may use for a node (most specific first)."""
    if isinstance(evaluable, Source):
        return (f"{evaluable.source_name}.{evaluable.name}", evaluable.source_name)
    return (evaluable.name,)


def _gate(func: Callable[[Any], RuleViolation | None]) -> Any:
    """Register `func` as a critical dbt-score rule that honours its `exceptions` (each with a
    reason) and fails closed: a rule that crashes reports a violation instead of passing."""

    @functools.wraps(func)
    def evaluate(evaluable: Evaluable, exceptions: Mapping[str, str] | None = None) -> Any:
        for name in _node_names(evaluable):
            if exceptions and name in exceptions:
                if not str(exceptions[name]).strip():
                    return RuleViolation(f"the exception for {name} gives no reason.")
                return None
        try:
            return func(evaluable)
        except Exception as error:  # a broken rule must not pass silently
            return RuleViolation(f"the rule failed to run: {error!r}")

    (node_parameter,) = inspect.signature(func).parameters.values()
    exceptions_parameter = inspect.Parameter(
        "exceptions", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None
    )
    evaluate.__signature__ = inspect.Signature([node_parameter, exceptions_parameter])  # type: ignore[attr-defined]
    return rule(severity=Severity.CRITICAL)(evaluate)


def _layer(model: Model) -> tuple[str | None, tuple[str, ...]]:
    """The layer folder of a model (staging, intermediate, marts; None outside models/) and the
    folders between it and the file."""
    parts = PurePosixPath(model.original_file_path).parts
    if len(parts) < 3 or parts[0] != "models":
        return None, ()
    return parts[1], parts[2:-1]


def _sources_read(model: Model) -> list[str]:
    return [node for node in model.depends_on.get("nodes", []) if node.startswith("source.")]


@_gate
def model_naming_conventions(model: Model) -> RuleViolation | None:
    """A model's name and folder match its layer [fct_model_naming_conventions, _directories].

    stg_<source>__<entity> in models/staging/<source>/ (reading only that source), int_ in
    models/intermediate/<area>/, fct_ / dim_ / agg_ in models/marts/<domain>/.
    """
    layer, folders = _layer(model)
    if layer == "staging":
        if len(folders) != 1:
            return RuleViolation("a staging model belongs in models/staging/<source>/.")
        source = folders[0]
        prefix = f"stg_{source}__"
        if not (
            model.name.startswith(prefix) and STAGING_ENTITY.fullmatch(model.name[len(prefix) :])
        ):
            return RuleViolation(f"a model in staging/{source}/ is named {prefix}<entity>.")
        others = sorted({node.split(".")[2] for node in _sources_read(model)} - {source})
        if others:
            return RuleViolation(f"reads source {', '.join(others)}, not {source} (its folder).")
        return None
    if layer in NAME_PATTERNS:
        if len(folders) != 1:
            return RuleViolation(f"a model belongs in one subfolder of models/{layer}/.")
        if not NAME_PATTERNS[layer].fullmatch(model.name):
            expected = "int_" if layer == "intermediate" else "fct_, dim_ or agg_"
            return RuleViolation(f"a model in models/{layer}/ is named {expected}<name>.")
        return None
    return RuleViolation(
        f"{model.original_file_path} is outside models/staging, intermediate and marts."
    )


@_gate
def source_used_outside_staging(model: Model) -> RuleViolation | None:
    """Only staging models call source() [fct_marts_or_intermediate_dependent_on_source].

    The house style's rule, wider than the evaluator's: no model outside models/staging/.
    """
    layer, _ = _layer(model)
    sources = _sources_read(model)
    if layer != "staging" and sources:
        return RuleViolation(
            f"a model outside staging reads {', '.join(sources)}; ref() its staging model."
        )
    return None


@_gate
def mart_depends_on_source(model: Model) -> RuleViolation | None:
    """No mart depends directly on a source [fct_marts_or_intermediate_dependent_on_source]."""
    layer, _ = _layer(model)
    sources = _sources_read(model)
    if layer == "marts" and sources:
        return RuleViolation(f"a mart reads {', '.join(sources)} directly.")
    return None


@_gate
def missing_primary_key_tests(model: Model) -> RuleViolation | None:
    """Every model's grain is tested [fct_missing_primary_key_tests].

    unique and not_null on one column, or a unique_combination test on the grain columns.
    """
    for column in model.columns:
        tests = {test.type for test in column.tests}
        if {"unique", "not_null"} <= tests:
            return None
    if any(
        test.type in {"unique_combination", "unique_combination_of_columns"} for test in model.tests
    ):
        return None
    return RuleViolation(
        "no primary-key test: add unique + not_null on the grain column, or unique_combination."
    )


@_gate
def undocumented_model(model: Model) -> RuleViolation | None:
    """Every model has a description [fct_undocumented_models]."""
    if not model.description.strip():
        return RuleViolation("the model has no description.")
    return None


@_gate
def undocumented_public_model_columns(model: Model) -> RuleViolation | None:
    """Every column of a public model has a description [fct_undocumented_public_models]."""
    if model.access != "public":
        return None
    missing = [column.name for column in model.columns if not column.description.strip()]
    if missing:
        return RuleViolation(f"columns without a description: {', '.join(missing)}.")
    return None


@_gate
def public_model_without_contract(model: Model) -> RuleViolation | None:
    """Every public model enforces its contract [fct_public_models_without_contract]."""
    if model.access == "public" and not model.config.get("contract", {}).get("enforced"):
        return RuleViolation("a public model without `contract: {enforced: true}`.")
    return None


@_gate
def mart_not_public(model: Model) -> RuleViolation | None:
    """Every mart is public, so the contract and column-description rules reach it (the marts are
    what BI tools and reports read; a private mart belongs in intermediate)."""
    if _layer(model)[0] == "marts" and model.access != "public":
        return RuleViolation("a mart without `access: public` (or move it to intermediate).")
    return None


@_gate
def public_mart_without_personal_data_scan(model: Model) -> RuleViolation | None:
    """Every public mart carries the personal-data scan (macros/tests/no_personal_data.sql): no
    phone number and no raw anonymous_id / user_id in any of its string columns."""
    if _layer(model)[0] != "marts" or model.access != "public":
        return None
    if any(test.type == "no_personal_data" for test in model.tests):
        return None
    return RuleViolation("a public mart without the `shoplens.no_personal_data` data test.")


@_gate
def undocumented_source(source: Source) -> RuleViolation | None:
    """Every source has a description [fct_undocumented_sources]."""
    if not source.source_description.strip():
        return RuleViolation(f"source {source.source_name} has no description.")
    return None


@_gate
def undocumented_source_table(source: Source) -> RuleViolation | None:
    """Every source table has a description [fct_undocumented_source_tables]."""
    if not source.description.strip():
        return RuleViolation("the source table has no description.")
    return None


@_gate
def source_without_freshness(source: Source) -> RuleViolation | None:
    """Every source table has freshness configured [fct_sources_without_freshness].

    A warn_after or error_after threshold, and a loaded_at_field (or loaded_at_query): DuckDB and
    PostgreSQL have no metadata-based freshness.
    """
    freshness = source.freshness or {}
    thresholds = [freshness.get(key) or {} for key in ("warn_after", "error_after")]
    if not any(threshold.get("count") and threshold.get("period") for threshold in thresholds):
        return RuleViolation("no freshness warn_after / error_after.")
    raw = source._raw_values
    if not (raw.get("loaded_at_field") or raw.get("loaded_at_query")):
        return RuleViolation("freshness needs a loaded_at_field on this warehouse.")
    return None


@_gate
def exposure_depends_on_private_model(exposure: Exposure) -> RuleViolation | None:
    """Exposures depend only on public models [fct_exposures_dependent_on_private_models].

    Metrics, semantic models and saved queries (built on the public marts) are allowed too.
    """
    public = {
        parent.unique_id
        for parent in exposure.parents
        if isinstance(parent, Model) and parent.access == "public"
    }
    others = [
        node
        for node in exposure.depends_on.get("nodes", [])
        if node not in public and not node.startswith(ALLOWED_EXPOSURE_PARENTS)
    ]
    if others:
        return RuleViolation(f"depends on what is not a public model: {', '.join(others)}.")
    return None
