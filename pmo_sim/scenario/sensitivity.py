"""The optional ``sensitivity:`` section: the ranges a sensitivity study varies.

```yaml
sensitivity:
  metric: npv                                   # the KPI studied (default npv)
  ranges:                                       # --set paths and their [low, high]
    resources.developers.headcount: [5, 9]
    changes.per_project_per_year: [1, 5]
```

It only declares what ``pmo-sim sensitivity`` studies when no ``--vary`` is given: it has no
effect on a run. Each range is checked here (two numbers, low below high) and the metric
against the KPIs; whether a path exists and holds a number is checked by ``pmo-sim validate``
and by the study before it runs, whether it accepts both ends by the study, each problem
located at the range's line (:func:`locate`).
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from pmo_sim.scenario.base import Model, Name
from pmo_sim.schema import KPI_COLUMNS


def _low_below_high(bounds: list[float]) -> list[float]:
    low, high = bounds
    if not low < high:
        raise ValueError(f"must be [low, high] with low < high (got [{low:g}, {high:g}])")
    return bounds


Range = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2),
                  AfterValidator(_low_below_high)]


class Sensitivity(Model):
    """What a sensitivity study varies (``ranges``) and which KPI it studies (``metric``)."""

    ranges: dict[Name, Range] = Field(min_length=1)
    metric: str = "npv"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in KPI_COLUMNS:
            raise ValueError(f"unknown metric; expected one of: {', '.join(KPI_COLUMNS)} (got {metric!r})")
        return metric


def locate(file: str | os.PathLike[str], *keys: str) -> dict[str, tuple[int, int]]:
    """Line and column (1-based) of every key of the mapping at ``keys`` in a YAML file (empty
    if there is none), from one reading of the file: a reading per key took ``validate`` 36 s
    for 200 ranges of a 200-project scenario, and minutes for 1,000."""
    try:
        with open(file, encoding="utf-8-sig") as fh:
            node = YAML(typ="rt").load(fh)
    except (OSError, YAMLError, UnicodeDecodeError):
        return {}
    for key in keys:
        if not isinstance(node, CommentedMap) or key not in node:
            return {}
        node = node[key]
    if not isinstance(node, CommentedMap):
        return {}
    return {str(k): (line + 1, column + 1) for k in node for line, column in [node.lc.key(k)]}
