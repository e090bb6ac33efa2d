"""Plain data to scenario YAML, the reverse of :mod:`pmo_sim.scenario.reader`: what it writes
reads back equal (a run's resolved ``scenario.yaml``, an imported PSPLIB instance)."""

from __future__ import annotations

from typing import Any

import yaml

from pmo_sim.scenario.reader import _CORE, _T_NULL, _T_STR, _typed

_DUMPER: Any = getattr(yaml, "CSafeDumper", None) or yaml.SafeDumper


class _Dumper(_DUMPER):
    """Plain data to YAML that :func:`~pmo_sim.scenario.reader.read_yaml` reads back equal.

    PyYAML quotes text its own YAML 1.1 resolver would read as something else (``yes``,
    ``1_000``); this reader types scalars by the YAML 1.2 core schema, which reads a few more
    as numbers (``1e3``, ``0o17``): text that :func:`_typed` would not read as text is quoted
    too. ``None`` is written as nothing (``cost_estimate:``), as ruamel.yaml wrote it.
    """


def _represent_text(dumper: Any, text: str) -> Any:
    as_text = _typed(text, None) is text
    return dumper.represent_scalar(_T_STR, text, style=None if as_text else "'")


def _represent_none(dumper: Any, _value: None) -> Any:
    return dumper.represent_scalar(_T_NULL, "")


class Flow(dict):
    """A mapping :func:`dump_yaml` writes on one line (flow style: ``{name: j2, duration: 8}``),
    as a scenario's task lists read best."""


def _represent_flow(dumper: Any, mapping: Flow) -> Any:
    return dumper.represent_mapping(_CORE + "map", mapping.items(), flow_style=True)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(type(None), _represent_none)
_Dumper.add_representer(Flow, _represent_flow)


def dump_yaml(data: Any, width: int = 88) -> str:
    """YAML of plain data (mappings in their order, block style but :class:`Flow` ones), read
    back equal by :func:`~pmo_sim.scenario.reader.read_yaml`; libyaml's emitter when installed
    (~15 times faster than ruamel.yaml's round-trip dumper: 7 ms against 0.1 s for a
    40-project scenario, on the way to a run's first replication). Lines are broken past
    ``width`` where YAML allows."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=width)
    return text
