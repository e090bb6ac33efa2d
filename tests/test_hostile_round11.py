"""Edges an eleventh hostile-input probe found.

- ``run_experiment(sc, seed=None)``, ``simulate(sc, seed=None)`` or ``replication=None``,
  ``sweep``/``sensitivity`` with ``seed=None`` or ``replications=None``: a TypeError from deep
  inside ("'<' not supported between instances of 'NoneType' and 'int'"). A TypeError naming
  the argument now, before anything runs (``run_experiment(replications=None)`` still means
  the default);
- ``Results.with_projects(columns=["zzz"])`` (or ``columns="finish"``): pyarrow's KeyError
  ("Column zzz does not exist in schema"; "Column f ..."); ``replications="1"`` or ``[True]``:
  "projects.parquet is unreadable", as if the file were damaged; ``[1.5]`` read replication 1.
  A TypeError naming the argument, or a UsageError listing the columns, now;
- ``load_scenario(path, "resources.dev.headcount=3")`` (the overrides as one --set text): taken
  for a list of its letters, "--set:1:1: r: unknown key" and 24 more; ``overrides=5``: "'int'
  object is not iterable"; ``["resources.dev.headcount=3"]``: "unknown key ... (got
  'headcount=3')". A TypeError naming the argument, and for an item of --set text the pair to
  give, now;
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_RUN as TINY

import pmo_sim as ps


@pytest.fixture
def tiny(tmp_path: Path) -> Any:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return ps.load_scenario(path)


@pytest.mark.parametrize(("call", "name"), [
    (lambda sc: ps.run_experiment(sc, replications=1, seed=None, jobs=1), "seed"),
    (lambda sc: ps.simulate(sc, seed=None), "seed"),
    (lambda sc: ps.simulate(sc, replication=None), "replication"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], seed=None, jobs=1), "seed"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], replications=None, jobs=1),
     "replications"),
    (lambda sc: ps.sensitivity(sc, {"resources.dev.headcount": (2, 3)}, seed=None, jobs=1), "seed"),
])
def test_none_for_a_seed_or_a_count_is_named(tiny: Any, call: Callable[[Any], Any], name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be an integer, not NoneType"):
        call(tiny)


@pytest.mark.parametrize(("options", "error", "says"), [
    ({"columns": ["zzz"]}, ps.UsageError, "unknown projects column 'zzz'; it has: policy, "),
    ({"columns": "finish"}, TypeError, "columns must be a list of names, not str"),
    ({"replications": "1"}, TypeError, "replications must be a list of integers, not str"),
    ({"replications": [True]}, TypeError, "replications must hold integers, not bool"),
    ({"replications": [1.5]}, TypeError, "replications must hold integers, not float"),
])
def test_a_view_of_projects_names_what_it_cannot_select(tiny_results: Path, options: dict[str, Any],
                                                         error: type[Exception], says: str) -> None:
    res = ps.load_results(tiny_results)
    with pytest.raises(error, match=f"^{re.escape(says)}"):
        res.with_projects(**options).projects  # noqa: B018 (reading it is the test)
    assert len(res.with_projects(["finish"], replications=[1]).projects) == 1


def test_overrides_as_set_text_are_named(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    for given in ("resources.dev.headcount=3", 5):
        with pytest.raises(TypeError, match=r"^overrides must be a mapping \{PATH: VALUE\} or a "
                                            r"list of \(PATH, VALUE\) pairs, not (str|int)"):
            ps.load_scenario(path, given)
    with pytest.raises(ps.ScenarioError) as caught:
        ps.load_scenario(path, ["resources.dev.headcount=3"])
    assert str(caught.value) == (
        "--set:1:1: resources.dev.headcount=3: an override is a (PATH, VALUE) pair, not the text "
        "of a --set: give ('resources.dev.headcount', VALUE) (got 'resources.dev.headcount=3')")
    assert ps.load_scenario(path, [("resources.dev.headcount", 3)]).resources["dev"].headcount == 3
