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
    schema = _numbers_are_fixed(Scenario.model_json_schema(by_alias=True, mode="validation"))
    _policies_merge(schema)
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


def _numbers_are_fixed(node: Any) -> Any:
    """``node`` where every random quantity (the ``{dist: ...}`` union) also takes a plain number.

    SPEC 3: a plain number means a fixed value. The models turn it into ``{dist: fixed}``
    before validating (a ``BeforeValidator``), which pydantic's schema does not show: without
    this, editors flagged ``due: 200`` and ``effort: 5`` in every bundled scenario.
    """
    if isinstance(node, list):
        return [_numbers_are_fixed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _numbers_are_fixed(value) for key, value in node.items()}
    if out.get("discriminator", {}).get("propertyName") == "dist" and "oneOf" in out:
        union = {key: out.pop(key) for key in ("discriminator", "oneOf")}
        out["anyOf"] = [{"type": "number"}, union]
    return out


def _policies_merge(schema: dict[str, Any]) -> None:
    """Let each entry of ``policies`` be what the loader takes: null (an empty policy), or the
    levers it changes, deep-merged over ``pmo`` (SPEC 4).

    Mappings merge key by key, so below a policy no key of a mapping is required (a policy
    may give a stage gate's ``cancel_if_overrun`` alone, the rest coming from ``pmo``); lists
    and scalars replace ``pmo``'s whole, so a list's items (a programme, an adoption) are
    checked as complete. Each model a policy reaches through mappings gets a copy without
    ``required``, named ``<Model>InPolicy``.
    """
    defs: dict[str, Any] = schema["$defs"]

    def merged(ref: str) -> str:
        name = ref.rsplit("/", 1)[1]
        copy = f"{name}InPolicy"
        if copy not in defs:
            model = defs[copy] = {key: value for key, value in defs[name].items() if key != "required"}
            model["properties"] = {key: lenient(value) for key, value in model.get("properties", {}).items()}
            if isinstance(model.get("additionalProperties"), dict):
                model["additionalProperties"] = lenient(model["additionalProperties"])
        return f"#/$defs/{copy}"

    def lenient(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return {**node, "$ref": merged(node["$ref"])}
        if "anyOf" in node:
            return {**node, "anyOf": [lenient(option) for option in node["anyOf"]]}
        if isinstance(node.get("additionalProperties"), dict):
            return {**node, "additionalProperties": lenient(node["additionalProperties"])}
        return node  # arrays and scalars replace pmo's: checked whole

    policies = schema["properties"]["policies"]
    policies["additionalProperties"] = {"anyOf": [{"$ref": merged(policies["additionalProperties"]["$ref"])},
                                                  {"type": "null"}]}
