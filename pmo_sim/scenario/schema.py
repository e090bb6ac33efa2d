"""The JSON Schema of the scenario format, generated from the pydantic models.

Editors (VS Code's YAML extension, JetBrains IDEs) use it to complete and check scenario
files as they are typed: add ``# yaml-language-server: $schema=scenario.schema.json`` at the
top of a scenario. The schema describes each field's type and range; cross-references (a
task's skill naming a pool, precedence cycles, ...) are only checked by ``pmo-sim validate``.
"""

from __future__ import annotations

from typing import Any

from pmo_sim.scenario.models import Scenario


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "pmo-sim scenario",
        "description": (
            "A pmo-sim scenario: skill pools, projects and their tasks, the intake of generated "
            "projects, change requests, the workforce, and the PMO levers compared as policies. "
            "A random quantity is a plain number or a {dist: ...} mapping. Each entry of "
            "`policies` is deep-merged over `pmo` before it is validated, so a policy may give "
            "only the levers it changes."
        ),
    }
