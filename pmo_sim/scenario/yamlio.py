"""The YAML readers of scenarios and ``--set`` values, with one repair: impossible dates.

YAML reads ``2027-01-04`` as a date, and ruamel.yaml raises a bare ``ValueError`` from deep
inside the parser for a date-shaped value that is no date (``2027-13-01``). Such a value stays
text here instead, so that validation reports it where it is written ("expected a date").
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _RoundTrip(RoundTripConstructor):
    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return self.construct_scalar(node)


class _Safe(SafeConstructor):
    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return self.construct_scalar(node)


_RoundTrip.add_constructor(_TIMESTAMP, _RoundTrip.construct_yaml_timestamp)
_Safe.add_constructor(_TIMESTAMP, _Safe.construct_yaml_timestamp)


def round_trip_yaml() -> YAML:
    """ruamel's round-trip reader (keeps line and column of every node)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _RoundTrip
    return yaml


def safe_yaml() -> YAML:
    """ruamel's pure-Python safe reader, for ``--set`` values."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _Safe
    return yaml
