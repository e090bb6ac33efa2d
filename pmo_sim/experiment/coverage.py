"""Whether a complete folder's consolidated tables hold the rows of the run its manifest
describes: every policy it lists, every replication ``0..n-1``, and nothing else.

The tables are checked where they are read, cheaply (their key columns, grouped):

- ``replications``: each policy's replications ``0..n-1``, once each;
- ``projects``: per policy and replication, as many counted projects (``counted``) as the
  replications table says arrived (``projects_arrived``); a replication may legitimately
  have none, so only that count says how many there must be;
- ``risks``: per policy and replication, as many rows that occurred as its projects had
  risk events (``risk_events`` of ``projects``);
- ``pools`` and ``goals``: every policy and replication, each with the same number of rows
  (one per pool or goal; a scenario has at least one of each it has at all), and then one row
  of each pool or goal the folder's ``scenario.yaml`` names (``resources``,
  ``strategy.goals``), no other: every row of one pool deleted leaves the replications alike,
  so only the scenario says a pool is missing.

An edited or truncated table (an empty ``projects.parquet`` in a complete folder; before,
the report said it had no projects) is refused with a :class:`~pmo_sim.errors.UsageError`
naming the file, the policy and replication, and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmo_sim.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from pmo_sim.scenario.models import Scenario

#: Tables with the same number of rows in every (policy, replication) of a run.
EVEN_TABLES = ("pools", "goals")
#: The column of each such table naming its pool or goal, and where the scenario lists them.
NAMED = {"pools": ("pool", "resources"), "goals": ("goal", "strategy.goals")}


def check_no_stray_policies(table: pd.DataFrame, manifest: dict[str, Any], file: Path) -> None:
    """Every row of a table belongs to a policy the manifest lists (an edited table whose
    rows name another policy would otherwise be drawn, or crash a figure, as a policy that
    was never run)."""
    if "policy" not in table.columns or table.empty:
        return
    extra = sorted(str(p) for p in set(table["policy"].unique()) - set(manifest["policies"]))
    if extra:
        raise UsageError(f"{file} does not match the manifest: it has rows of policies the "
                         f"manifest does not list ({', '.join(extra)})")


def check_rows(file: Path, manifest: dict[str, Any], table: str = "replications") -> None:
    """A complete run's table is counted in its Parquet footer before a row is read: a small
    file can hold millions of rows of one repeated value (1.7 MB made 10,000,000 rows, and
    compare grew to 680 MB before refusing them; a larger one exhausted memory).
    ``replications`` has one row per policy and replication; ``projects`` at most as many per
    policy and replication as a scenario may make (its explicit projects and intake count)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pmo_sim.experiment.tablefile import native_file
    from pmo_sim.scenario.limits import MAX_INTAKE_COUNT, MAX_PROJECTS

    try:
        with native_file(file) as source:
            rows = pq.read_metadata(source).num_rows
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{file} is unreadable: {exc}") from exc
    n, policies = int(manifest["replications"]), len(manifest["policies"])
    runs = f"{policies} {'policy' if policies == 1 else 'policies'} x {n:,} replications"
    if table == "replications" and rows != n * policies:
        raise UsageError(f"{file} does not match the manifest: it has {rows:,} rows, expected "
                         f"{n * policies:,} ({runs})")
    most = MAX_PROJECTS + MAX_INTAKE_COUNT
    if table == "projects" and rows > n * policies * most:
        raise UsageError(f"{file} does not match the manifest: it has {rows:,} rows, more than "
                         f"{runs} can make (at most {most:,} projects each)")


def check_policies(replications: pd.DataFrame, manifest: dict[str, Any], file: Path,
                   complete: bool) -> None:
    """The replications table holds the manifest's policies, each with the same replications
    (all of 0..n-1 once each when the run is complete)."""
    check_no_stray_policies(replications, manifest, file)
    policies = list(manifest["policies"])
    got = replications.groupby("policy", sort=False)["replication"]
    present = set(got.groups)
    lacking = [p for p in policies if p not in present]
    if lacking and complete:
        raise UsageError(f"{file} does not match the manifest: it has no rows for the policies "
                         f"{', '.join(lacking)}")
    if not complete:
        return
    n = int(manifest["replications"])
    for policy, reps in got:
        values = reps.to_numpy()
        if len(values) != n or set(values.tolist()) != set(range(n)):
            raise UsageError(f"{file} does not match the manifest: policy {policy!r} has "
                             f"{len(values)} rows, expected replications 0..{n - 1} once each")


def _per_replication(table: pd.DataFrame, manifest: dict[str, Any], file: Path,
                     rows: pd.Series | None = None) -> pd.Series:
    """Rows (or the sum of ``rows``) per (policy, replication) of the run, 0 where there are
    none; a replication outside ``0..n-1`` is refused."""
    import pandas as pd

    n = int(manifest["replications"])
    reps = table["replication"]
    outside = reps[(reps < 0) | (reps >= n)]
    if len(outside):
        raise UsageError(f"{file} does not match the manifest: it has rows of replication "
                         f"{int(outside.iloc[0])}, not one of the run's 0..{n - 1}")
    keys = [table["policy"].astype(str), reps]
    counts = (rows if rows is not None else pd.Series(1, index=table.index)).groupby(keys).sum()
    every = pd.MultiIndex.from_product([list(manifest["policies"]), range(n)])
    return counts.reindex(every, fill_value=0)


def _where(found: pd.Series, mismatch: Any) -> tuple[str, int, int]:
    policy, replication = found.index[mismatch][0]
    return str(policy), int(replication), int(found[mismatch].iloc[0])


def check_projects(projects: pd.DataFrame, arrived: pd.DataFrame, manifest: dict[str, Any],
                   file: Path) -> None:
    """Per (policy, replication), the counted rows of ``projects`` are the ``projects_arrived``
    of ``arrived`` (the replications table's keys and that column, checked already)."""
    found = _per_replication(projects, manifest, file, projects["counted"].astype(int))
    expected = arrived.set_index(["policy", "replication"])["projects_arrived"]
    expected = expected.reindex(found.index, fill_value=0).astype(int)
    mismatch = (found != expected).to_numpy()
    if not mismatch.any():
        return
    if projects.empty:
        raise UsageError(f"{file} does not match the run: it has no rows, but "
                         f"{int(expected.sum())} projects arrived (projects_arrived in "
                         f"replications.parquet); the table was emptied")
    policy, replication, count = _where(found, mismatch)
    raise UsageError(
        f"{file} does not match the run: policy {policy!r}, replication {replication} has "
        f"{count} counted projects, but {expected[mismatch].iloc[0]} arrived (projects_arrived "
        f"in replications.parquet){_more(mismatch)}")


def check_risks(risks: pd.DataFrame, projects: pd.DataFrame, manifest: dict[str, Any],
                file: Path) -> None:
    """Per (policy, replication), the rows of ``risks`` that occurred are the ``risk_events``
    of ``projects`` (the projects table's keys and that column): a strike added or removed
    by hand would otherwise be counted in the risk drivers as one the run had (or did not)."""
    found = _per_replication(risks, manifest, file, risks["occurred"].astype(int))
    expected = _per_replication(projects, manifest, file, projects["risk_events"].astype(int))
    mismatch = (found != expected).to_numpy()
    if mismatch.any():
        policy, replication, count = _where(found, mismatch)
        raise UsageError(
            f"{file} does not match the run: policy {policy!r}, replication {replication} has "
            f"{count} risks that occurred, but its projects had {expected[mismatch].iloc[0]} risk "
            f"events (risk_events in projects.parquet){_more(mismatch)}")


#: Tables whose rows per (policy, replication) another table counts: that table, its column,
#: the check, and the table's own column the check reads (with ``policy`` and ``replication``).
COUNTED = {"projects": ("replications", "projects_arrived", check_projects, "counted"),
           "risks": ("projects", "risk_events", check_risks, "occurred")}


def _more(mismatch: Any) -> str:
    more = int(mismatch.sum()) - 1
    return f", and {more} more replication{'s' if more > 1 else ''} differ{'' if more > 1 else 's'}" \
        if more else ""


def check_even(table: pd.DataFrame, name: str, manifest: dict[str, Any], file: Path) -> None:
    """Every (policy, replication) of the run has rows in ``table``, as many as each other."""
    found = _per_replication(table, manifest, file)
    positive = found[found > 0]
    usual = int(positive.mode().iloc[0]) if len(positive) else 0
    mismatch = (found != usual).to_numpy()
    if usual == 0:
        raise UsageError(f"{file} does not match the manifest: it has no rows, but every "
                         f"replication has one per {name[:-1]}; the table was emptied")
    if mismatch.any():
        policy, replication, count = _where(found, mismatch)
        raise UsageError(
            f"{file} does not match the manifest: policy {policy!r}, replication {replication} "
            f"has {count} rows, the others {usual} (one per {name[:-1]}){_more(mismatch)}")


def scenario_names(scenario: Scenario, name: str) -> list[str]:
    """The pools or goals (``name``: ``pools`` or ``goals``) a run of ``scenario`` has a row of
    in every replication."""
    if name == "pools":
        return list(scenario.resources)
    return list(scenario.strategy.goals) if scenario.strategy is not None else []


def check_named(table: pd.DataFrame, name: str, names: Sequence[str], manifest: dict[str, Any],
                file: Path, scenario_file: Path) -> None:
    """Every (policy, replication) of the run has one row of each of ``names`` (the pools or
    goals of the run's scenario, ``scenario_file``) in ``table``, and the table no other row
    (:func:`check_even` first: its counts say an emptied replication more plainly)."""
    import numpy as np
    import pandas as pd

    column, listed = NAMED[name]
    n, k = int(manifest["replications"]), len(names)
    which = pd.Index(list(names)).get_indexer(pd.Index(table[column])).astype(np.int64)  # -1: none
    if (which < 0).any():
        stray = table[column][which < 0].iloc[0]
        what = (f"of {column} {stray!r}, which {scenario_file} does not list" if isinstance(
            stray, str) else f"without a {column} (empty), not one of those {scenario_file} lists")
        raise UsageError(f"{file} does not match the run: it has rows {what} in {listed} "
                         f"({', '.join(map(repr, names))}); the table was edited")
    policies = list(manifest["policies"])
    policy = pd.Index(policies).get_indexer(pd.Index(table["policy"].astype(str)))
    key = (policy.astype(np.int64) * n + table["replication"].to_numpy(np.int64)) * k + which
    counts = np.bincount(key, minlength=len(policies) * n * k).reshape(len(policies), n, k)
    absent = [names[j] for j in range(k) if not counts[:, :, j].any()]
    if absent:
        several = len(absent) > 1
        raise UsageError(f"{file} does not match the run: it has no rows of {column}"
                         f"{'s' if several else ''} {', '.join(map(repr, absent))}, though "
                         f"{scenario_file} lists {'them' if several else 'it'} in {listed}; the "
                         f"table was edited")
    odd = counts != 1
    if odd.any():
        p, r, j = (int(i) for i in np.argwhere(odd)[0])
        raise UsageError(f"{file} does not match the run: policy {policies[p]!r}, replication "
                         f"{r} has {counts[p, r, j]} rows of {column} {names[j]!r}, expected one "
                         f"(one per {column} of {listed} in {scenario_file})"
                         f"{_more(odd.any(axis=2).ravel())}")
