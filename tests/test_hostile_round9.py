"""Edges a ninth hostile-input probe found.

- ``run -j 40`` (more workers than the machine allows): the run's head start submitted its
  first chunks to a pool of 40 before the run refused the option, so some twenty worker
  processes started before "--jobs 40 is more than this machine can use" (the very thing
  the limit is there to prevent); ``-j 2**62`` or more was a traceback (ValueError from
  itertools.islice). The head start checks the backend's options first now, and leaves the
  refusal to the run;
- ``fit H --out F --figures X`` where X is a named pipe, a folder under a file, or a symbolic
  link to nothing: the fragment was written, then the first figure failed (exit 2, "cannot
  write X/effort-dev.png"), leaving the fragment behind, so the same command, corrected, was
  then refused without --force. The figures' folder is checked before anything is written;
- ``export R --xlsx W --ema X`` where X (or W's folder) is under a file or a symbolic link to
  nothing: the workbook was written, then the EMA tables failed (exit 2, "workbook: W" on
  stdout and the workbook left), though export "checks both targets before either is
  written". Each target's check now includes its folder;
- ``sensitivity S --vary intake.arrivals=1:2`` (a distribution, not a number): the message
  suggested "vary one of its parameters, e.g. intake.arrivals.mean_", a path that does not
  exist (the model's Python name of ``mean``); the scenario is read by the names a file uses;
- a pool, policy or list item whose name has a dot in it (a pool ``dev.team``, a policy
  ``v1.2``): ``--set resources.dev.team.headcount=3`` said "no such key; expected one of:
  dev.team (got 'dev')", so no ``--set``, ``--vary`` or sensitivity range could reach any
  field under such a name (a list item had its index; a mapping entry had nothing). A
  dotted name is matched whole now, the longest match winning;
- ``run --out R --force`` where one of R's own file names is a folder (``summary.csv/``, a
  ``projects.parquet/``) or ``chunks`` is a file: --force deleted the manifest and the
  scenario (or every table), then stopped with "--force cannot clear R: Is a directory" (or
  "Not a directory"), exit 2, the old results half gone and nothing said of where. Every
  name is checked before anything is deleted now, and the one in the way is named;
- ``manifest.json`` that is a folder or a named pipe was "missing"; it is "not a file" now;
- ``sweep ... --out F --force`` with a folder ``F/sweep.png`` (likewise ``trace``'s figure,
  ``roi``'s roi.png): the whole study ran, its table was written, then the figure failed
  ("F/sweep.png: Is a directory", exit 2), the table left without its figure (roi: the
  results folder, roi.json and roi.csv without roi.png). A folder where a command writes a
  file is refused before any work now, --force or not;
- ``trace`` of a task with a crew of 5,000 (a large organisation; a pool may hold 100,000):
  the Gantt chart had a row per person, 0.28 in each, so the PNG was 1440 x 168,000 pixels
  (240 megapixels, a minute to draw, refused by image viewers as a decompression bomb), and
  at a pool's limit tens of gigabytes of pixels before anything was said. Above 400 people
  the chart keeps its height and names no row (the task log names them all);
- ``sweep`` of three paths with many values of the third: a row of heat maps (3 in) per
  combination of the later paths, so 2,500 of them made a figure 900,000 pixels high
  (gigabytes, many minutes) after the sweep had run. The first 30 rows are drawn, and the
  title says how many there are (sweep.csv has every one);
- ``report`` of a scenario with 100 policies: the legend above the trade-off, distribution,
  pools and value figures (4 columns, 25 rows) left their axes no height, so matplotlib
  printed "constrained_layout not applied because axes sizes collapsed to zero" on stderr
  for each and drew the legend over the plot. The figure grows by the legend's rows; so do
  sweep's and frontier's, whose legend inside the axes was taller than the figure;
- ``run --chunk-size 10**24``: the run succeeded (exit 0) and recorded the chunk size in its
  manifest, whose reader bounds it at 10,000,000: compare, report, forecast and --resume then
  refused the folder as edited. Refused before the run now;
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_RUN as TINY
from test_hostile_round3 import invoke

import pmo_sim as ps


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize("jobs", [40, 2**62, 10**30])
def test_too_many_jobs_start_no_worker_before_the_refusal(tiny_file: Path, tmp_path: Path,
                                                          jobs: int) -> None:
    from pmo_sim.experiment.backends import max_jobs
    from pmo_sim.experiment.headstart import head_start

    assert jobs > max_jobs()
    early = head_start(ps.load_scenario(tiny_file), replications=400, seed=0, policies=(),
                       jobs=jobs, chunk_size=1, max_events=None)
    if early is not None:
        early.discard()
    assert early is None  # no pool, no worker process started
    out = tmp_path / "out"
    code, text = invoke("run", str(tiny_file), "-n", "2", "-q", "-j", str(jobs), "--out", str(out))
    assert code == 2, text
    assert f"--jobs {jobs} is more than this machine can use" in text
    assert not out.exists()


HISTORY = Path(__file__).parent.parent / "scenarios" / "history" / "tasks.csv"


@pytest.mark.parametrize("kind", ["under_a_file", "fifo", "dangling_link"])
def test_fit_refuses_a_figures_folder_it_cannot_make_before_writing_the_fragment(
        tmp_path: Path, kind: str) -> None:
    import os

    blocker = tmp_path / "blocker"
    if kind == "fifo":
        os.mkfifo(blocker)
        figures = blocker
    elif kind == "dangling_link":
        blocker.symlink_to(tmp_path / "nowhere")
        figures = blocker
    else:
        blocker.write_text("mine")
        figures = blocker / "sub"
    fragment = tmp_path / "out" / "f.yaml"
    code, text = invoke("fit", str(HISTORY), "--out", str(fragment), "--figures", str(figures), "-q")
    assert code == 2, text
    assert f"cannot write {figures}/" in text
    assert not fragment.exists()
    assert not fragment.parent.exists()


@pytest.mark.parametrize("blocked", ["ema", "xlsx"])
@pytest.mark.parametrize("kind", ["under_a_file", "dangling_link"])
def test_export_refuses_a_blocked_target_before_writing_the_other(
        tiny_results: Path, tmp_path: Path, blocked: str, kind: str) -> None:
    blocker = tmp_path / "blocker"
    if kind == "dangling_link":
        blocker.symlink_to(tmp_path / "nowhere")
    else:
        blocker.write_text("mine")
    good = tmp_path / "out"
    xlsx, ema = (good / "book.xlsx", blocker / "ema") if blocked == "ema" else \
        (blocker / "book.xlsx", good / "ema")
    code, text = invoke("export", str(tiny_results), "--xlsx", str(xlsx), "--ema", str(ema))
    assert code == 2, text
    assert f"cannot write {ema if blocked == 'ema' else xlsx}: {blocker} is " in text
    assert "workbook:" not in text
    assert not good.exists()
    assert kind == "dangling_link" or blocker.read_text() == "mine"


QUEUE = Path(__file__).parent.parent / "scenarios" / "queue_mmc.yaml"


def test_sensitivity_of_a_distribution_suggests_a_path_that_exists(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke("sensitivity", str(QUEUE), "--vary", "intake.arrivals=1:2", "--metric", "npv",
                        "-n", "2", "-j", "1", "-q", "--out", str(out))
    assert code == 2, text
    assert "holds a distribution; vary one of its parameters, e.g. intake.arrivals.mean " in text
    assert "mean_" not in text
    assert not out.exists()
    code, text = invoke("validate", str(QUEUE), "--set", "intake.arrivals.mean=3")
    assert code == 0, text  # the suggested path is one --set and --vary take


DOTTED = """name: dotted
horizon: 100
resources:
  dev: {headcount: 1, day_rate: 100}
  dev.team: {headcount: 2, day_rate: 100}
projects:
  - {name: CRM 2.0, value_per_day: 10, tasks: [{name: a, skill: dev.team, effort: 5}]}
policies:
  v1.2: {resource_manager: {wip_limit: 3}}
"""


def test_names_with_dots_are_reached_by_set_and_vary(tmp_path: Path) -> None:
    path = tmp_path / "dotted.yaml"
    path.write_text(DOTTED)
    sc = ps.load_scenario(path, overrides={"resources.dev.team.headcount": 5,
                                           "resources.dev.headcount": 3,
                                           "projects.CRM 2.0.value_per_day": 20,
                                           "policies.v1.2.resource_manager.wip_limit": 4})
    assert (sc.resources["dev.team"].headcount, sc.resources["dev"].headcount) == (5, 3)
    assert sc.projects[0].value_per_day.mean() == 20
    assert sc.policies["v1.2"].resource_manager.wip_limit == 4
    code, text = invoke("validate", str(path), "--set", "resources.dev.team.headcount=0")
    assert code == 2, text
    assert "--set:1:1: resources.dev.team.headcount: must be at least 1 (got 0)" in text
    out = tmp_path / "out"
    code, text = invoke("sweep", str(path), "--vary", "resources.dev.team.headcount=2,3", "-n", "1",
                        "-j", "1", "-q", "--out", str(out))
    assert code == 0, text
    assert (out / "sweep.csv").read_text().startswith("resources.dev.team.headcount,")


@pytest.mark.parametrize("name", ["summary.csv", "projects.parquet", "chunks", "manifest.json"])
def test_force_checks_every_name_before_clearing_anything(tiny_results: Path, name: str) -> None:
    target = tiny_results / name
    if name == "chunks":
        target.write_text("mine")
    else:
        target.unlink()
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in tiny_results.iterdir() if p.is_file()}
    code, text = invoke("run", str(tiny_results.parent / "s.yaml"), "-n", "2", "-j", "1", "-q",
                        "--out", str(tiny_results), "--force")
    assert code == 2, text
    shown = "not a folder, where pmo-sim writes its chunks" if name == "chunks" else \
        "a folder, where pmo-sim writes a file"
    assert f"--force cannot clear {tiny_results}: {target} is {shown}" in text
    assert {p.name: p.read_bytes() for p in tiny_results.iterdir() if p.is_file()} == before
    assert name == "chunks" or (target / "mine.txt").read_text() == "mine"


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_manifest_that_is_no_file_is_named_so(tiny_results: Path, kind: str) -> None:
    import os

    manifest = tiny_results / "manifest.json"
    manifest.unlink()
    manifest.mkdir() if kind == "folder" else os.mkfifo(manifest)
    code, text = invoke("compare", str(tiny_results))
    assert code == 2, text
    assert f"{tiny_results} is not a results folder: manifest.json is not a file" in text


@pytest.mark.parametrize(("command", "name", "options"), [
    ("sweep", "sweep.png", ["--vary", "resources.dev.headcount=2,3", "-n", "1", "-j", "1", "-q"]),
    ("trace", "trace-default-r0.png", ["--policy", "default", "--replication", "0"]),
    ("sensitivity", "sensitivity.png", ["--vary", "resources.dev.headcount=2:3", "--metric", "npv",
                                        "-n", "2", "-j", "1", "-q"]),
])
def test_a_folder_where_a_study_writes_a_file_is_refused_before_the_study(
        tiny_file: Path, tmp_path: Path, command: str, name: str, options: list[str]) -> None:
    out = tmp_path / "out"
    (out / name).mkdir(parents=True)
    code, text = invoke(command, str(tiny_file), *options, "--out", str(out), "--force")
    assert code == 2, text
    assert f"{out / name} is a folder, where this command writes a file of that name" in text
    assert [p.name for p in out.iterdir()] == [name]


@pytest.mark.parametrize("figure", ["effort-analysts.png", "ratio-testers.png"])
def test_fit_refuses_a_folder_where_a_figure_goes_before_writing(tmp_path: Path, figure: str) -> None:
    figures = tmp_path / "figures"
    (figures / figure).mkdir(parents=True)
    fragment = tmp_path / "f.yaml"
    code, text = invoke("fit", str(HISTORY), "--out", str(fragment), "--figures", str(figures),
                        "--force", "-q")
    assert code == 2, text
    assert f"{figures / figure} is a folder, where this command writes a file of that name" in text
    assert not fragment.exists()
    assert [p.name for p in figures.iterdir()] == [figure]


def test_roi_refuses_a_folder_where_it_writes_a_file_before_the_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "roi.png").mkdir(parents=True)
    code, text = invoke("roi", str(TRAINING), "--policy", "upskill", "--programme", "dev-course",
                        "-n", "2", "-j", "1", "-q", "--set", "horizon=100", "--set", "warmup=0",
                        "--out", str(out), "--force")
    assert code == 2, text
    assert f"{out / 'roi.png'} is a folder, where roi writes a file of that name" in text
    assert [p.name for p in out.iterdir()] == ["roi.png"]


TRAINING = Path(__file__).parent.parent / "scenarios" / "training.yaml"


@pytest.mark.parametrize("name", ["experiments.csv", "outcomes.csv"])
def test_export_refuses_a_folder_where_an_ema_table_goes_before_the_workbook(
        tiny_results: Path, tmp_path: Path, name: str) -> None:
    ema = tmp_path / "ema"
    (ema / name).mkdir(parents=True)
    book = tmp_path / "book.xlsx"
    code, text = invoke("export", str(tiny_results), "--xlsx", str(book), "--ema", str(ema), "--force")
    assert code == 2, text
    assert f"{ema / name} is a folder, where this command writes a file of that name" in text
    assert not book.exists()
    assert [p.name for p in ema.iterdir()] == [name]


def test_a_gantt_chart_of_thousands_of_people_keeps_its_size() -> None:
    import pandas as pd

    from pmo_sim.analysis.plots import gantt  # where it was before it had a module of its own

    crew = ",".join(f"dev-{i}" for i in range(5000))
    tasks = pd.DataFrame({"project": ["P"], "pool": ["dev"], "start": [0.0], "finish": [1.0],
                          "crew": [crew]})
    ax = gantt(tasks)
    width, height = ax.figure.get_size_inches()
    assert height <= 1.6 + 0.28 * 400 + 1e-9  # pmo_sim.analysis.gantt.MAX_LABELLED_PEOPLE
    assert list(ax.get_yticks()) == []
    assert "5,000 people, a row each" in ax.get_ylabel()
    small = gantt(tasks.assign(crew="dev-0,dev-1"))
    assert [t.get_text() for t in small.get_yticklabels()] == ["dev-0", "dev-1"]


def test_a_sweep_of_three_paths_draws_a_bounded_figure() -> None:
    import itertools

    import pandas as pd

    from pmo_sim.analysis.plots import sweep_figure

    rows = [{"a": a, "b": b, "c": c, "policy": "p", "metric": "npv", "mean": float(a * b + c),
             "ci_low": 0.0, "ci_high": 1.0, "n": 2}
            for a, b, c in itertools.product([1, 2], [1, 2], range(40))]
    fig = sweep_figure(pd.DataFrame(rows))
    assert fig.get_size_inches()[1] <= 0.6 + 3.0 * 30 + 1e-9
    assert "(the first 30 of 40 combinations of c; the table has every one)" in fig.get_suptitle()


def test_a_figure_of_a_hundred_policies_makes_room_for_its_legend() -> None:
    import io
    import warnings

    import pandas as pd

    from pmo_sim.analysis import report_figures

    policies = [f"p{i:03d}" for i in range(100)]
    table = pd.DataFrame([{"policy": p, "metric": m, "mean": 10.0 + i, "ci_high": 11.0 + i}
                          for i, p in enumerate(policies) for m in ("mean_cycle_time", "on_time_rate")])
    fig = report_figures.tradeoff(table, policies)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="svg")
    assert fig.get_size_inches()[1] > 3.8 + 0.2 * 20


def test_a_sweep_figure_of_a_hundred_policies_warns_of_nothing() -> None:
    import io
    import warnings

    import pandas as pd

    from pmo_sim.analysis.plots import sweep_figure

    rows = [{"a": a, "policy": f"p{i:03d}", "metric": "npv", "mean": float(a + i),
             "ci_low": a + i - 1.0, "ci_high": a + i + 1.0, "n": 2} for i in range(100) for a in (1, 2)]
    fig = sweep_figure(pd.DataFrame(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=30)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_chunk_size_no_manifest_may_record_is_refused_first(tiny_file: Path, tmp_path: Path,
                                                             jobs: str) -> None:
    out = tmp_path / "out"
    code, text = invoke("run", str(tiny_file), "-n", "2", "-j", jobs, "-q", "--chunk-size",
                        str(10**24), "--out", str(out))
    assert code == 2, text
    assert "--chunk-size must be at most 10,000,000" in text
    assert not out.exists()
