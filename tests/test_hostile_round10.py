"""Edges a tenth hostile-input probe found.

- a pool, project, task, policy or the scenario named ``" "`` (only spaces), or ``" dev"``
  with spaces around it: accepted. A blank name shows as nothing in every table, and
  ``" dev"`` looks like ``dev`` but is another name. Both are refused now, located, and so
  are invisible format characters (a zero-width space, U+200B) at a name's ends;
- ``run --out R --resume --force`` (and ``run_experiment(resume=True, force=True)``): the run
  resumed, --force ignored without a word. The two are a usage error now (exit 2), R untouched;
- an option of one value given twice (``run --out A --out B``, ``-n 2 -n 3``, ``frontier
  --budget X --budget Y``, ``import psplib F --out A --out B``): the last was taken, the
  other dropped without a word. A usage error now (exit 2) naming the option; repeatable
  options (--set, --vary, --policy) and flags are unchanged;
- a staffing plan releasing people so that, from an explicit project's arrival to the horizon,
  a pool has fewer people than a task of that project needs at once: valid, and the task
  waited to the horizon, its project "open", without a word. Refused now at the release (a
  crew larger than its pool, as SPEC 4.1 refuses one without a plan); where it is not
  certain (an earlier arrival, a later hire, contractors, cross-skilling) it is accepted;
- ``pmo-sim new " x"`` (or ``" "``, ``"x "``): wrote `` x.yaml``, a starter scenario named
  " x" that ``validate`` refuses. The name is checked as the scenario's now (exit 2), nothing
  written;
- (with the first) ``import psplib "x .sm"``: the project and scenario are named after the
  file's stem without its spaces ("x"; a blank one "instance"), not refused;
- ``pmo-sim run S --out R >&-`` (or ``2>&-``: started without a standard output or error, as
  cron may): the run was done, then an AttributeError traceback ('NoneType' object has no
  attribute 'isatty', or 'flush' at the exit) and exit 1, whatever the command's code. The
  null device stands in for a missing stream now, so the command's own code is returned;
- a results folder (or a history) whose name holds a byte that is not UTF-8 (``bad\\xff``, as
  a Latin-1 system names files): ``run`` wrote its chunks, then failed at the end with a
  UnicodeEncodeError traceback from pyarrow (exit 1), and ``compare``, ``report``,
  ``forecast`` and ``export`` of such a folder did the same; ``report`` and ``fit`` failed
  writing the path into the page or the fragment. Parquet files are opened by their file
  system bytes now, and such a path is written as its escape (``\\udcff``);
- an existing output folder that cannot be written (a read-only file system; no permission):
  ``sweep``/``sensitivity``/``frontier --out F`` ran the whole study, then failed at its table
  ("F/sweep.csv: Read-only file system"); ``report`` rendered the page first; ``export --xlsx
  W --ema F`` wrote the workbook, then failed at the EMA tables; ``fit H --out G --figures F``
  wrote the fragment, then failed at the first figure (the next fit then refused without
  --force). Each is refused before the work now (a file is created and removed in the
  folder to find out);
- ``sweep S --vary resources.dev.headcount=1,3`` where 1 leaves a task's crew larger than the
  pool: "projects.1.tasks.0.people: crew is larger than pool 'dev' (headcount 1)", without
  the value that made it (a combination of several paths said "[at ...]"). A value's
  problem elsewhere than its own field now ends "[at PATH=VALUE]" too;
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_RUN as TINY
from test_hostile_round3 import invoke


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize(("old", "new", "where", "why"), [
    ("name: tiny", 'name: " "', ":1:7: name:", "blank"),
    ("  dev: {", '  " ": {', ":4:3: resources. :", "blank"),
    ("name: P,", 'name: "\u3000",', "projects.0.name:", "blank"),
    ("name: P,", 'name: "P ",', "projects.0.name:", "begin or end with spaces"),
    ("name: a,", 'name: " a",', "projects.0.tasks.0.name:", "begin or end with spaces"),
    ("name: P,", 'name: "P\u200b",', "projects.0.name:", "or invisible characters"),
    ("name: P,", 'name: "\ufeff\u200b",', "projects.0.name:", "blank"),
])
def test_blank_or_padded_names_are_refused_located(tiny_file: Path, old: str, new: str,
                                                   where: str, why: str) -> None:
    tiny_file.write_text(TINY.replace(old, new, 1))
    code, out = invoke("validate", str(tiny_file))
    assert code == 2, out
    assert where in out, out
    assert why in out, out


def test_a_padded_policy_name_is_refused(tiny_file: Path) -> None:
    tiny_file.write_text(TINY + 'policies:\n  " base ": {}\n')
    code, out = invoke("validate", str(tiny_file))
    assert code == 2 and "policies. base : a name must not begin or end with spaces" in out, out


def test_resume_with_force_is_a_usage_error(tiny_results: Path) -> None:
    import pmo_sim as ps

    before = {p.name: p.stat().st_mtime_ns for p in tiny_results.rglob("*")}
    code, out = invoke("run", str(tiny_results.parent / "s.yaml"), "-n", "2", "-j", "1",
                       "--out", str(tiny_results), "--resume", "--force")
    assert code == 2 and "--resume and --force cannot be used together" in out, out
    assert {p.name: p.stat().st_mtime_ns for p in tiny_results.rglob("*")} == before
    with pytest.raises(ps.UsageError, match="cannot be used together"):
        ps.run_experiment(ps.load_scenario(tiny_results.parent / "s.yaml"), replications=2,
                          out=tiny_results, resume=True, force=True)


RELEASED = """name: released
horizon: 200
resources:
  dev: {headcount: 3, day_rate: 100}
projects:
  - {name: A, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 5, people: 3}]}
  - {name: B, arrival: 50, value_per_day: 10, tasks: [{name: b, skill: dev, effort: 6, people: 3}]}
pmo:
  resource_manager:
    staffing:
      - {day: 10, pool: dev, change: -1}
"""


def test_a_release_that_strands_a_later_project_s_crew_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(RELEASED)
    code, out = invoke("validate", str(path))
    assert code == 2, out
    assert (f"{path}:11:38: pmo.resource_manager.staffing.0.change: leaves pool 'dev' 2 people "
            "from day 10, and fewer than 3 to the horizon: task 'b' of project 'B' (arriving on "
            "day 50) needs 3 at once, so it could never start (got -1)") in out, out


@pytest.mark.parametrize("edit", [
    ("arrival: 50", "arrival: 5"),                     # B arrives before the release
    ("      - {day: 10, pool: dev, change: -1}",       # a hire brings the pool back
     "      - {day: 10, pool: dev, change: -1}\n      - {day: 40, pool: dev, change: 1}"),
    ("    staffing:", "    contractors: [{pool: dev, max: 1, lead_time: 1, day_rate: 1,"
                      " trigger_wait: 1, release_idle: 1}]\n    staffing:"),
    ("  dev: {headcount: 3, day_rate: 100}",
     "  dev: {headcount: 3, day_rate: 100}\n  ops: {headcount: 2, day_rate: 100}\n"
     "pmo_training: x"),
])
def test_a_release_that_leaves_a_way_to_start_is_accepted(tmp_path: Path,
                                                          edit: tuple[str, str]) -> None:
    text = RELEASED.replace(*edit)
    if "pmo_training" in text:  # training cross-skills ops people into dev: not judged
        text = text.replace("pmo_training: x\n", "").replace(
            "  resource_manager:\n", "  training_manager:\n    programmes:\n      - {name: x, "
            "skill: ops, trainees: 1, start: 0, duration_days: 1, cross_skill: dev}\n"
            "  resource_manager:\n")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    code, out = invoke("validate", str(path))
    assert code == 0, out


@pytest.mark.parametrize("name", [" ", " x", "x ", "x .yaml"])
def test_new_refuses_a_name_its_scenario_could_not_have(tmp_path: Path, name: str) -> None:
    code, out = invoke("new", name, "--dir", str(tmp_path))
    assert code == 2 and "NAME is the scenario's name: a name must not" in out, out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("stem", "named"), [("x ", "x"), (" ", "instance"), ("x\u200b", "x")])
def test_import_names_a_padded_or_blank_file_stem_validly(tmp_path: Path, stem: str,
                                                          named: str) -> None:
    import pmo_sim as ps

    source = tmp_path / f"{stem}.sm"
    source.write_bytes((Path(__file__).parent / "data/psplib/j30/j3046_4.sm").read_bytes())
    code, out = invoke("import", "psplib", str(source), "--out", str(tmp_path / "i.yaml"))
    assert code == 0, out
    sc = ps.load_scenario(tmp_path / "i.yaml")
    assert sc.name == named and [p.name for p in sc.projects] == [named]


@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&- <&-"])
def test_a_missing_standard_stream_is_no_traceback(tiny_file: Path, tmp_path: Path,
                                                   closed: str) -> None:
    import shlex
    import subprocess
    import sys

    program = shlex.quote(str(Path(sys.executable).parent / "pmo-sim"))
    out = tmp_path / "r"

    def shell(args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", "-c", f"{program} {args} {closed}"], capture_output=True,
                              text=True, timeout=120)

    done = shell(f"run {shlex.quote(str(tiny_file))} -n 2 -j 1 --out {shlex.quote(str(out))}")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert (out / "summary.csv").is_file()
    done = shell(f"validate {shlex.quote(str(tmp_path / 'missing.yaml'))}")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_a_folder_whose_name_is_not_utf8_is_read_and_written(tmp_path: Path) -> None:
    import os

    odd = os.fsdecode(b"bad\xff")
    try:
        (tmp_path / odd).mkdir()
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 names")
    scenario = tmp_path / odd / "s.yaml"
    scenario.write_text(TINY)
    out = tmp_path / odd / "r"
    code, text = invoke("run", str(scenario), "-n", "2", "-j", "1", "--out", str(out))
    assert code == 0 and (out / "replications.parquet").is_file(), text
    for args in (["compare", str(out)], ["forecast", str(out)], ["report", str(out)],
                 ["export", str(out), "--xlsx", str(tmp_path / odd / "w.xlsx")]):
        code, text = invoke(*args)
        assert code == 0, (args, text)
    assert "bad\\udcff" in (out / "report.html").read_text(encoding="utf-8")
    history = tmp_path / odd / f"h{odd}.csv"
    history.write_bytes((Path(__file__).parents[1] / "scenarios/history/tasks.csv").read_bytes())
    code, text = invoke("fit", str(history), "--out", str(tmp_path / "f.yaml"))
    assert code == 0 and "bad\\udcff" in (tmp_path / "f.yaml").read_text(encoding="utf-8"), text


def test_a_read_only_output_folder_is_refused_before_the_work(tiny_disk: Path, tiny_file: Path,
                                                              tmp_path: Path) -> None:
    import shutil
    import subprocess

    import pmo_sim as ps

    ps.run_experiment(ps.load_scenario(tiny_file), replications=2, jobs=1, out=tmp_path / "r")
    shutil.copytree(tmp_path / "r", tiny_disk / "r")
    (tiny_disk / "f").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    code, out = invoke("sweep", str(tiny_file), "--vary", "horizon=50,100", "-n", "2", "-j", "1",
                       "--out", str(tiny_disk / "f"), "--quiet")
    assert code == 2 and f"cannot write the results folder {tiny_disk / 'f'}: Read-only" in out, out
    code, out = invoke("report", str(tiny_disk / "r"))
    assert code == 2 and f"cannot write {tiny_disk / 'r' / 'report.html'}: Read-only" in out, out
    code, out = invoke("export", str(tmp_path / "r"), "--xlsx", str(tmp_path / "w.xlsx"),
                       "--ema", str(tiny_disk / "f"))
    assert code == 2 and f"cannot write {tiny_disk / 'f'}: Read-only" in out, out
    assert not (tmp_path / "w.xlsx").exists()
    history = Path(__file__).parents[1] / "scenarios/history/tasks.csv"
    code, out = invoke("fit", str(history), "--out", str(tmp_path / "g.yaml"),
                       "--figures", str(tiny_disk / "f"))
    assert code == 2 and "Read-only" in out and not (tmp_path / "g.yaml").exists(), out


def test_a_swept_value_s_problem_elsewhere_names_the_value(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(RELEASED.replace("people: 3", "people: 2"))
    code, out = invoke("sweep", str(path), "--vary", "resources.dev.headcount=2,4", "-n", "2",
                       "-j", "1", "--out", str(tmp_path / "f"))
    assert code == 2, out
    assert "could never start [at resources.dev.headcount=2] (got -1)" in out, out
    assert "headcount=4" not in out, out


@pytest.mark.parametrize("args", [
    ["run", "{s}", "-n", "2", "--replications", "3", "--out", "{d}/r"],
    ["run", "{s}", "--out", "{d}/a", "--out", "{d}/b"],
    ["sweep", "{s}", "--vary", "horizon=5,10", "--format", "json", "--format", "csv"],
    ["trace", "{s}", "--policy", "default", "--policy", "default"],
    ["new", "x", "--dir", "{d}/a", "--dir", "{d}/b"],
])
def test_an_option_of_one_value_given_twice_is_a_usage_error(tiny_file: Path, tmp_path: Path,
                                                              args: list[str]) -> None:
    code, out = invoke(*[a.format(s=tiny_file, d=tmp_path) for a in args])
    assert code == 2 and "is given more than once; give it once" in out, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]  # nothing written


def test_repeatable_options_and_flags_may_still_repeat(tiny_file: Path, tmp_path: Path) -> None:
    code, out = invoke("run", str(tiny_file), "-n", "2", "-j", "1", "--out", str(tmp_path / "r"),
                       "--set", "horizon=50", "--set", "horizon=60", "--policy", "default",
                       "--policy", "default", "--quiet", "--quiet")
    assert code == 0, out


def test_a_policy_s_retirement_of_equipment_that_strands_a_task_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("""name: eq
horizon: 200
resources:
  dev: {headcount: 3, day_rate: 100}
  rig: {kind: equipment, units: 2}
projects:
  - {name: B, arrival: 50, tasks: [{name: b, needs: {dev: 1, rig: 2}, effort: 6}]}
policies:
  keep: {}
  lean:
    resource_manager:
      staffing: [{day: 10, pool: rig, change: -1}, {day: 20, pool: dev, change: -1}]
""")
    code, out = invoke("validate", str(path))
    assert code == 2 and out.count("could never start") == 1, out
    assert ("12:47: policies.lean.resource_manager.staffing.0.change: leaves pool 'rig' 1 unit "
            "from day 10, and fewer than 2 to the horizon") in out, out
