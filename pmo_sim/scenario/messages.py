"""Pydantic's validation errors, as readable located problems.

Pydantic reports an error at a *location* made of field names, list indices, union tags and
validator names; the user wrote a dotted path in a YAML file. :func:`translate` turns one
error into a :class:`~pmo_sim.errors.Problem` at the user's path (union tags and validator
names dropped), located by the :class:`~pmo_sim.scenario.reader.SourceMap`, with a message in
the scenario's words ("must be at least 1", "unknown key; expected one of: ...").
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel

from pmo_sim.errors import Problem
from pmo_sim.scenario.capacity import POOL_KINDS
from pmo_sim.scenario.dists import DIST_NAMES
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.sources import KeyPath, SourceMap

_NO_VALUE = object()

# --------------------------------------------------------------------------- pydantic errors

_DISTS = ", ".join(DIST_NAMES)
_MESSAGES = {
    "missing": "required field missing",
    "float_type": "expected a number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "list_type": "expected a list",
    "model_attributes_type": "expected a number or a distribution such as {dist: uniform, low: 1, high: 2}",
    "finite_number": "must be a finite number, not NaN or infinity (numbers beyond 1.8e308 are infinite)",
    "union_tag_invalid": f"unknown distribution; expected one of {_DISTS}",
    "union_tag_not_found": f"a distribution needs a 'dist' key; expected one of {_DISTS}",
}


def translate(err: Any, tree: dict[str, Any], sources: SourceMap) -> Problem:
    loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
    path = clean_path(loc, tree)
    if kind == "missing":
        return sources.problem(path, _MESSAGES[kind])
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = getattr(model, "NOT_FIELDS", {}).get(path[-1])  # a key that belongs to another kind
        allowed = [f.alias or name for name, f in model.model_fields.items()] if model else None
        message = hint or "unknown key" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
        return sources.problem(path, message, path[-1], key=True)
    if kind == "unknown_pool_kind":  # located at the `kind` it did not understand
        node = _value_at(tree, path, None)
        got = node.get("kind") if isinstance(node, dict) else node
        return sources.problem(path + ("kind",), err["msg"], got)
    if kind == "invalid_key":  # a number where a section's keys are field names
        return sources.problem(path, "a key here must be text (a field name), not a number",
                               path[-1], key=True)
    if loc[-1:] == ("[key]",):  # a mapping key of the wrong type
        message = _message(kind, ctx, err["msg"])
        message += " (in the key)" if kind == "value_error" else " as the key"
        return sources.problem(path, message, err["input"], key=True)
    if kind == "too_long":  # the value is a huge list: the count says it all
        return sources.problem(path, _message(kind, ctx, err["msg"]))
    got = _value_at(tree, path, err["input"])
    if kind == "union_tag_invalid":
        got = ctx.get("tag", got)
    message = _message(kind, ctx, err["msg"])
    if isinstance(got, bool) and kind in ("float_type", "int_type"):
        message += ", not true/false"
    if kind == "value_error" and message.startswith("value ") and not isinstance(got, dict):
        message = message[len("value "):]  # a plain number, read as {dist: fixed, value: ...}
    if "(got " in message:  # the validator already said what it got
        return sources.problem(path, message)
    return sources.problem(path, message, got)


def _message(kind: str, ctx: dict[str, Any], fallback: str) -> str:
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    bound = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
    if kind in bound:
        limit = ctx[bound[kind]]
        if kind == "greater_than_equal" and limit == 0:
            return "must not be negative"
        words = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}[bound[kind]]
        return f"must be {words} {limit:g}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"has {ctx.get('actual_length', 0):,} items, more than the limit of {ctx['max_length']:,}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"needs at least {n} items"
    if kind == "value_error":
        return str(ctx["error"])
    return fallback[:1].lower() + fallback[1:]


def clean_path(loc: tuple[Any, ...], tree: Any) -> KeyPath:
    """The user's path: pydantic's union tags and validator names dropped."""
    path: list[Union[str, int]] = []
    node: Any = tree
    for seg in loc:
        in_dict = isinstance(node, dict) and seg in node
        if in_dict or (isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)):
            node = node[seg]
        elif isinstance(seg, str) and ("[" in seg or _is_tag(node, seg)):
            continue
        else:
            node = _NO_VALUE
        path.append(seg)
    return tuple(path)


def _is_tag(node: Any, seg: str) -> bool:
    if seg in POOL_KINDS:  # a pool's kind, `people` when it is left out
        return not isinstance(node, dict) or node.get("kind", "people") == seg
    if isinstance(node, dict):
        return node.get("dist") == seg
    return seg in DIST_NAMES and not isinstance(node, list)  # a plain number read as `fixed`


def _value_at(tree: Any, path: KeyPath, default: Any) -> Any:
    node = tree
    for seg in path:
        if isinstance(node, (dict, list)):
            try:
                node = node[seg]  # type: ignore[index]
                continue
            except (KeyError, IndexError, TypeError):
                pass
        return default
    return node


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class at pydantic location ``loc``, if it is one."""
    tp: Any = Scenario
    for seg in loc:
        tp = _step(tp, seg)
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _step(tp: Any, seg: Any) -> Any:
    if isinstance(seg, str) and "[" in seg:
        return tp
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        for member in map(_unwrap, typing.get_args(tp)):
            fields = getattr(member, "model_fields", {})
            tag = fields.get("dist") or fields.get("kind")  # distributions and pools
            if tag is not None and seg in typing.get_args(tag.annotation):
                return member
        return None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, f in tp.model_fields.items():
            if seg in (name, f.alias):
                return f.annotation
        return None
    if origin is list:
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    return None
