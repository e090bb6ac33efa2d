"""What a run gives back: its tables, their provenance, and the analyses on them.

:class:`Results` is a thin, in-memory view of a results folder (SPEC 7): ``replications``,
``projects`` and ``pools`` DataFrames with ``policy`` and ``replication`` first, rows sorted
by (policy in scenario order, replication), plus the ``manifest`` (provenance and status).
A scenario with a strategy also has ``goals``, one with a risk register ``risks`` (SPEC 10.8);
``manifest["tables"]`` lists the tables a run has.
The statistics are delegated to :mod:`pmo_sim.analysis`, pure functions on those frames, so
``res.summary()`` and ``summary.csv`` are the same table (a run writes ``summary.csv`` a few
KPIs at a time from its Parquet file, :func:`summary_csv`, so that its memory does not grow
with the run; with the numbers of :mod:`pmo_sim.intervals`, as ``res.summary()``).
Nothing here imports pandas until a table is asked for: a run's parent process writes its
results folder with pyarrow and numpy alone.
A complete folder's tables are read when first used.

:func:`load_results` reopens a folder. A complete run is read from its consolidated tables;
a partial one (interrupted, or a replication failed) is assembled from its finished chunks,
and says so through ``manifest["status"] == "partial"``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pmo_sim.errors import (
    ScenarioError,
    UsageError,
    check_flags,
    check_pathlike,
    check_results,
    unknown_policy,
)
from pmo_sim.experiment.coverage import (
    COUNTED,
    EVEN_TABLES,
    check_even,
    check_named,
    check_no_stray_policies,
    check_policies,
    check_rows,
    scenario_names,
)
from pmo_sim.experiment.manifest import resume_command, scenario_sha256
from pmo_sim.experiment.store import SCENARIO, SUMMARY, ChunkStore, ResultsFolder
from pmo_sim.experiment.summary_file import summary_csv, summary_table
from pmo_sim.experiment.tablefile import (
    SCHEMAS,
    check_rest,
    check_selection,
    parquet_bytes,
    read_checked,
)
from pmo_sim.experiment.work import TABLES as CORE
from pmo_sim.schema import KPI_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from pmo_sim.analysis.compare import Selection
    from pmo_sim.scenario.models import Scenario

    TableSource = pd.DataFrame | Callable[[], pd.DataFrame]

log = logging.getLogger(__name__)


def frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as the DataFrame users get (one conversion path for memory and disk)."""
    return table.to_pandas()


class Results:
    """The outcome of :func:`pmo_sim.run_experiment` or :func:`load_results`.

    ``projects`` and ``pools`` of results on disk are read on first access: a run of 100,000
    replications prints its summary from the small ``replications`` table without ever holding
    millions of project rows in memory.
    """

    def __init__(self, replications: TableSource, projects: TableSource, pools: TableSource,
                 manifest: dict[str, Any], scenario: Scenario | None = None,
                 path: str | os.PathLike[str] | None = None,
                 optional: Mapping[str, TableSource] | None = None):
        self._replications = replications
        self._projects = projects
        self._pools = pools
        self.manifest = manifest
        self.path = Path(path) if path is not None else None
        # One list shared by every view (copy.copy) of these results: the scenario a view
        # loads is every view's; before, a report's view loaded scenario.yaml a second time.
        self._scenario: list[Scenario] = [scenario] if scenario is not None else []
        self._optional: dict[str, TableSource] = dict(optional or {})

    @classmethod
    def from_store(cls, store: ChunkStore, manifest: dict[str, Any],
                   scenario: Scenario | None = None) -> Results:
        """Assemble the tables from a store's chunks (sorted by policy, replication)."""
        policies = list(manifest["policies"])
        tables = {t: frame(store.table(t, policies)) for t in table_names(manifest)}
        path = store.path if isinstance(store, ResultsFolder) else None
        return cls(tables.pop("replications"), tables.pop("projects"), tables.pop("pools"), manifest,
                   scenario, path, tables)

    @property
    def replications(self) -> pd.DataFrame:
        """One row per (policy, replication) with every KPI (SPEC 7.1)."""
        if callable(self._replications):
            self._replications = self._replications()
        return self._replications

    @property
    def projects(self) -> pd.DataFrame:
        """One row per (policy, replication, project) (SPEC 7.2)."""
        if callable(self._projects):
            self._projects = self._projects()
        return self._projects

    @property
    def pools(self) -> pd.DataFrame:
        """One row per (policy, replication, pool) (SPEC 7.3)."""
        if callable(self._pools):
            self._pools = self._pools()
        return self._pools

    def _table(self, name: str) -> pd.DataFrame:
        source = self._optional.get(name)
        if source is None:  # the scenario has no such section: no rows
            return frame(SCHEMAS[name].empty_table())
        if callable(source):
            source = self._optional[name] = source()
        return source

    @property
    def goals(self) -> pd.DataFrame:
        """One row per (policy, replication, goal) (SPEC 10.8); empty without a strategy."""
        return self._table("goals")

    @property
    def risks(self) -> pd.DataFrame:
        """One row per (policy, replication, risk, applicable project) (SPEC 10.8); empty without
        a risk register."""
        return self._table("risks")

    def has_table(self, name: str) -> bool:
        """Whether the run made the table ``name`` (``goals``, ``risks``: when the scenario has
        their section); one it made that cannot be read is an error where it is read."""
        return name in table_names(self.manifest)

    def keys(self) -> pd.DataFrame:
        """The ``policy`` and ``replication`` columns of :attr:`replications` (from a folder,
        only those two are read when the table is not loaded yet)."""
        source = self._replications
        if isinstance(source, FileTable):
            return source(["policy", "replication"])
        return self.replications[["policy", "replication"]]

    def with_kpis(self, metrics: Sequence[str]) -> Results:
        """A view of these results whose ``replications`` table holds ``policy``,
        ``replication``, ``npv`` and ``metrics`` only: what a verdict on a few KPIs reads.

        From a folder, only those columns are read, so the command line's verdict after a
        run of 100,000 replications does not hold the ~40 KPI columns of every replication in
        memory. Results already in memory, and metrics that are not KPIs of the results schema
        (a user's own column; an unknown name, refused later with the list of every KPI), give
        these results as they are. The other tables are shared with these results.
        """
        source = self._replications
        if not isinstance(source, FileTable) or any(m not in KPI_COLUMNS for m in metrics):
            return self
        view = copy.copy(self)
        view._replications = functools.partial(
            source, ["policy", "replication", *dict.fromkeys(["npv", *metrics])])
        return view

    def with_projects(self, columns: Sequence[str] | None = None,
                      replications: Collection[int] | None = None) -> Results:
        """A view of these results whose ``projects`` holds only ``columns`` (with ``policy``,
        ``replication`` and ``counted``, which its checks read) of only ``replications`` (None:
        all of them).

        From a folder, only those are read (the rows of some replications a batch at a time),
        so a report, forecast or export of a run of a million project rows does not hold its
        ~25 columns in memory; the table is still checked as a whole one is. Results in
        memory give all their columns. The other tables are shared with these results.
        """
        check_selection("projects", columns, replications)
        view = copy.copy(self)
        source = self._projects
        if isinstance(source, FileTable):
            keys = None if columns is None else list(dict.fromkeys(
                ["policy", "replication", "counted", *columns]))
            view._projects = functools.partial(source.narrow, keys, replications)
        elif replications is not None:
            view._projects = self.projects[self.projects["replication"].isin(list(replications))]
        return view

    # ---------------------------------------------------------------- provenance

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario (read from the folder's ``scenario.yaml`` when loaded)."""
        if not self._scenario:
            if self.path is None:
                raise UsageError("these results carry no scenario")
            from pmo_sim.scenario.loader import load_written_scenario

            try:
                scenario = load_written_scenario(self.path / SCENARIO)
            except ScenarioError as exc:
                raise UsageError(f"{self.path / SCENARIO} no longer loads: {exc}") from exc
            # The forecast, the report and the workbook read projects, due dates and money
            # from it: a scenario.yaml edited or replaced since the run would put another
            # portfolio's names and dates on these tables.
            if scenario_sha256(scenario) != self.manifest["scenario_sha256"]:
                raise UsageError(f"{self.path / SCENARIO} is not the scenario these results came "
                                 f"from: its fingerprint is not the manifest's scenario_sha256 (it "
                                 f"was edited or replaced since the run); put the run's file back, "
                                 f"or run the scenario again")
            self._scenario.append(scenario)
        return self._scenario[0]

    @property
    def policies(self) -> list[str]:
        return list(self.manifest["policies"])

    @property
    def complete(self) -> bool:
        return self.manifest.get("status") == "complete"

    def require_replications(self, doing: str) -> None:
        """A :class:`UsageError` if these results hold no finished replication (a partial run
        interrupted before its first chunk, or whose chunks were all left out as corrupt):
        there is nothing to ``doing`` (``"export"``, ``"compare"``...)."""
        if self.replications.empty:
            raise UsageError(f"these results have no finished replication: nothing to {doing}")

    @property
    def resume_command(self) -> str | None:
        """The command that continues these partial results where their folder is now (None:
        no folder, or no command recorded)."""
        command = self.manifest.get("command")
        return resume_command(command, self.path) if command and self.path is not None else None

    def __repr__(self) -> str:
        n = self.replications["replication"].nunique() if len(self.replications) else 0
        where = f", path={str(self.path)!r}" if self.path else ""
        return (f"Results(scenario={self.manifest.get('scenario')!r}, policies={self.policies}, "
                f"replications={n}, status={self.manifest.get('status')!r}{where})")

    # ---------------------------------------------------------------- analyses

    def summary(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """Per policy and KPI: mean, sd, 95% t CI, p10/p50/p90, n (as ``summary.csv``).

        Every KPI's, from a complete folder, is computed from the file a few KPIs at a time
        (:func:`summary_table`, as a run computes ``summary.csv``): the same numbers, without
        every KPI of every replication in memory at once.
        """
        source = self._replications
        if metrics is None and isinstance(source, FileTable):
            import pandas as pd

            from pmo_sim.intervals import SUMMARY_COLUMNS

            return pd.DataFrame(summary_table(source.folder), columns=list(SUMMARY_COLUMNS))
        from pmo_sim.analysis.stats import summary

        return summary(self.replications, metrics)

    def summary_text(self) -> str:
        """:meth:`summary` of every KPI as ``summary.csv``'s text. From a complete folder it is
        computed from the file a few KPIs at a time (:func:`summary_csv`, as a run writes the
        file), never holding every KPI of every replication in memory."""
        source = self._replications
        if isinstance(source, FileTable):
            return summary_csv(source.folder)
        return self.summary().to_csv(index=False)

    def compare(self, baseline: str | None = None, metric: str = "npv",
                metrics: list[str] | None = None) -> pd.DataFrame:
        """Paired differences policy − ``baseline`` (default: the first policy) with CIs."""
        from pmo_sim.analysis.compare import compare

        base = self.resolve_baseline(baseline)
        return compare(self.replications, base, metrics if metrics else [metric])  # "npv": one

    def select_best(self, metric: str = "npv", delta: float | None = None,
                    alpha: float = 0.05) -> Selection:
        """The best policy on ``metric``, with how confident that choice is."""
        from pmo_sim.analysis.compare import select_best

        return select_best(self.replications, metric, delta=delta, alpha=alpha)

    def forecast(self, policy: str | None = None, by: float | str | dt.date | None = None,
                 projects: Sequence[str] | None = None,
                 templates: Sequence[str] | None = None) -> pd.DataFrame:
        """When each project lands (SPEC 10.6): per policy, explicit project and template, the
        P10/P50/P80/P90 finish days (+inf: not reached by the horizon), with dates when the
        scenario's calendar has a ``start_date``, and P(on time), P(by ``by``), P(cancelled),
        P(rejected), P(unfinished). See :func:`pmo_sim.analysis.forecast.forecast`."""
        check_results(self)  # ps.forecast(results): a method called as a function
        self.require_replications("forecast")  # before: "these results hold no projects"
        from pmo_sim.analysis.forecast import COLUMNS, forecast

        sc = self.scenario
        cal = sc.calendar
        names = [p.name for p in sc.projects] + [t.name for t in (sc.intake.templates if sc.intake else [])]
        return forecast(self.with_projects(COLUMNS).projects, horizon=sc.horizon, policy=policy, by=by,
                        start_date=cal.start_date if cal else None,
                        holidays=cal.holidays if cal else (), projects=projects,
                        templates=templates, order=names)

    def risk_drivers(self, policy: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """Which risks cost the most: per policy and risk, the mean delay, rework, cost and value
        lost it caused per replication, with CIs (:func:`pmo_sim.analysis.risks.risk_drivers`)."""
        check_results(self)
        from pmo_sim.analysis.risks import PROJECT_COLUMNS, risk_drivers

        if not self.has_table("risks"):
            raise UsageError("these results have no risks table: the scenario has no risk register")
        if policy is not None and policy not in self.policies:
            raise unknown_policy([policy], self.policies, "the results have")
        return risk_drivers(self.risks, self.with_projects(PROJECT_COLUMNS).projects,
                            policies=[policy] if policy else self.policies,
                            replications=int(self.manifest["replications"]) if self.complete else None,
                            confidence=confidence)

    def resolve_baseline(self, baseline: str | None) -> str:
        """``baseline`` checked against the policies; ``None`` means the first policy."""
        if baseline is None:
            return self.policies[0]
        if baseline not in self.policies:
            raise unknown_policy([baseline], self.policies, "the results have", "baseline policy")
        return baseline

    # ---------------------------------------------------------------- saving

    def save(self, path: str | os.PathLike[str], force: bool = False) -> Path:
        """Write these results as a results folder (no chunk files); returns its path."""
        check_pathlike(path, "the results folder")
        check_flags(force=force)  # force="no" is true: it overwrote the folder
        if not self.complete:  # its tables went where no reader of a partial folder looks (chunks)
            hint = f": {self.resume_command}" if self.resume_command else ""
            raise UsageError(f"these results are of a partial run: saved, they would read as a run "
                             f"with no finished replication; finish the run first{hint}")
        manifest = copy.deepcopy(self.manifest)
        manifest["chunks"] = []
        if self.path is not None and (self.path / SCENARIO).is_file():
            scenario_yaml = (self.path / SCENARIO).read_text(encoding="utf-8")
        else:
            from pmo_sim.scenario.loader import dump_scenario

            scenario_yaml = dump_scenario(self.scenario)
        if self.path is not None and Path(path).resolve() == self.path.resolve():  # (force cleared it)
            raise UsageError(f"{path} is the folder these results are read from: saving them there "
                             f"would delete them first; give another path")
        folder = ResultsFolder.create(path, manifest, scenario_yaml, force=force, resumable=False)
        try:
            for name in table_names(manifest):
                df = self._table(name) if name not in CORE else getattr(self, name)
                table = pa.Table.from_pandas(df, schema=SCHEMAS[name], preserve_index=False)
                folder.write_file(f"{name}.parquet", parquet_bytes(table, name))
            folder.write_file(SUMMARY, self.summary().to_csv(index=False))
            folder.write_manifest()
        finally:
            folder.release()  # the folder is another run's or save's to use from now on
        return folder.path


def load_results(path: str | os.PathLike[str]) -> Results:
    """Reopen a results folder, or refuse (:class:`UsageError`) one that is not a results folder.

    The manifest and every table are checked against what pmo-sim writes (see
    :mod:`pmo_sim.experiment.manifest` and :func:`~pmo_sim.experiment.tablefile.read_checked`):
    an edited folder is refused with the reason, never half-read.
    """
    check_pathlike(path, "the results folder")
    if Path(path).exists() and not Path(path).is_dir():  # before: "no such folder" (it is there)
        raise UsageError(f"{path} is not a results folder: it is a file; give the folder that holds it, "
                         f"{Path(path).parent}")
    folder = ResultsFolder.open(path)
    manifest = folder.manifest
    if manifest["status"] == "complete":
        missing = [f"{t}.parquet" for t in table_names(manifest) if t not in folder.tables_present()]
        if missing:
            # a folder, pipe or device (or a link to one) in a table's place is there, not
            # missing, as it was said before
            raise UsageError(f"{folder.path} is not a complete results folder: " + ", ".join(
                f"{name} missing" if not ((folder.path / name).exists()
                                          or (folder.path / name).is_symlink())
                else f"{name} is not a file (a folder, pipe, device or a link to one)"
                for name in missing))
        check_rows(folder.inside("replications.parquet"), manifest)
        results = read_consolidated(folder, manifest)
    else:
        for problem in folder.verify_chunks(drop=False):
            log.warning("%s; left out", problem)
        results = Results.from_store(folder, manifest)
    check_policies(results.keys(), manifest, folder.path / "replications.parquet",
                   complete=manifest["status"] == "complete")
    return results


class FileTable:
    """A consolidated table of a results folder, read and checked when called: every column,
    or only ``columns`` (see :meth:`Results.with_kpis`), of every replication or only
    ``replications``. Read whole, a table other than ``replications`` (checked on opening) is
    checked to hold the run's every policy and replication, and ``pools`` and ``goals`` one row
    of each of ``names`` (the scenario's pools or goals, asked for then) in each
    (:mod:`pmo_sim.experiment.coverage`); ``projects`` and ``risks`` are checked against the
    table that counts their rows whenever every replication is read with the columns that
    check reads."""

    def __init__(self, folder: ResultsFolder, manifest: dict[str, Any], name: str,
                 names: Callable[[], Sequence[str] | None] | None = None):
        self.folder, self.manifest, self.name, self.names = folder, manifest, name, names

    def __call__(self, columns: Sequence[str] | None = None,
                 replications: Collection[int] | None = None) -> pd.DataFrame:
        file = self.folder.inside(f"{self.name}.parquet")
        check_rows(file, self.manifest, self.name)
        table = frame(read_checked(file, self.name, columns, replications))
        check_no_stray_policies(table, self.manifest, file)
        counted = COUNTED.get(self.name)  # projects, risks: as many as another says
        if counted is not None and replications is None and (
                columns is None or {"policy", "replication", counted[3]} <= set(columns)):
            other, column, check, _ = counted
            counts = read_checked(self.folder.inside(f"{other}.parquet"), other,
                                  ["policy", "replication", column])
            check(table, frame(counts), self.manifest, file)
        elif columns is None and self.name in EVEN_TABLES:
            check_even(table, self.name, self.manifest, file)
            names = self.names() if self.names is not None else None
            if names is not None:
                check_named(table, self.name, names, self.manifest, file, self.folder.path / SCENARIO)
        return table

    def narrow(self, columns: Sequence[str] | None, replications: Collection[int] | None = None
               ) -> pd.DataFrame:
        """Only ``columns`` of only ``replications`` (see :meth:`__call__`); the values of the
        columns left out are checked a batch at a time (:func:`check_rest`), so that an edited
        table is refused as when it is read whole."""
        table = self(columns, replications)
        if columns is not None:
            check_rest(self.folder.inside(f"{self.name}.parquet"), self.name, columns)
        return table


def read_consolidated(folder: ResultsFolder, manifest: dict[str, Any],
                      scenario: Scenario | None = None) -> Results:
    """The consolidated tables of a folder as :class:`Results`."""

    def names(table: str) -> list[str] | None:
        """The run's pools or goals, from its checked scenario; None without one (edited, or
        no longer loading: the report does without it, these tables are then checked against
        one another only)."""
        try:
            return scenario_names(results.scenario, table)
        except UsageError:
            return None

    tables = {t: FileTable(folder, manifest, t, functools.partial(names, t) if t in EVEN_TABLES
                           else None) for t in ["replications", "projects", "pools", *table_names(manifest)]}
    results = Results(tables.pop("replications"), tables.pop("projects"), tables.pop("pools"),
                      manifest, scenario, folder.path, tables)
    return results


def table_names(manifest: dict[str, Any]) -> list[str]:
    """The tables of a run, as its manifest lists them (the core three when it does not)."""
    return list(manifest.get("tables") or CORE)
