"""`pmo-sim import psplib`: real PSPLIB/MPSPLIB instances (tests/data/psplib, see its README)
become valid scenarios with the documented mapping; malformed files are refused at their line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.io.psplib import import_instance, instance_scenario, read_sm, to_yaml
from pmo_sim.sampling import compile_network
from pmo_sim.scenario.loader import load_scenario, scenario_from_dict
from pmo_sim.scenario.network import cpm
from pmo_sim.scenario.reader import read_yaml

DATA = Path(__file__).parent / "data" / "psplib"
J30 = DATA / "j30"
MP = DATA / "mpsplib"
KOLISCH = MP / "KolischInstanzen" / "j30"
INSTANCES = [J30 / "j301_1.sm", J30 / "j3020_9.sm", J30 / "j3048_10.sm", KOLISCH / "j309_9.sm",
             KOLISCH / "j3033_3.sm", MP / "mp_j30_a2_nr2.xml"]


def _known_results() -> dict[str, tuple[int, int]]:
    """instance -> (critical path, known result), from the table of the data README."""
    rows = re.findall(r"^\| (\S+) \| (\d+) \| (\d+) \|", (DATA / "README.md").read_text(encoding="utf-8"),
                      re.MULTILINE)
    return {name: (int(cp), int(known)) for name, cp, known in rows}


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- real instances


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.name)
def test_every_instance_imports_into_a_scenario_that_loads(path: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{path.stem}.yaml"
    code, stdout, stderr = _invoke("import", "psplib", str(path), "--out", str(out))
    assert code == 0, stderr
    assert stdout == f"wrote {out}\nnext: pmo-sim run {out} -n 1\n"
    sc = load_scenario(out)
    assert sc.policy_names == ["fifo", "min_slack", "lst", "lft"]
    assert [p.resource_manager.allocation for p in sc.policies.values()] == sc.policy_names
    assert all(pool.kind == "equipment" for pool in sc.resources.values())
    # Every schedule fits: one activity after another, from the last release.
    durations = sum(t.duration.central() for p in sc.projects for t in p.tasks if t.duration)
    assert sc.horizon == durations + max(p.arrival for p in sc.projects) + 1
    # stdout without --out is the same scenario
    code, text, _ = _invoke("import", "psplib", str(path))
    assert code == 0 and text == out.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.name)
def test_the_written_yaml_reads_back_as_the_mapping_one_line_per_task(path: Path) -> None:
    text, data = import_instance(path), instance_scenario(path)
    assert read_yaml(text, "imported")[0] == data
    tasks = [line for line in text.splitlines() if line.startswith("  - {name: ")]
    assert tasks == [line for line in tasks if line.endswith("}")]  # each task on a line of its own
    assert len(tasks) == sum(len(p["tasks"]) for p in data["projects"])


@pytest.mark.parametrize("name", ["odd\u2028name: 1.sm", "odd\nname: 1.sm", "odd\x85# x.sm", "odd\rx: [.sm"])
def test_a_source_name_with_line_breaks_stays_inside_the_header_comment(name: str) -> None:
    # YAML ends a comment at any of \r \n \x85 \u2028 \u2029: written raw, the rest of the
    # name would be read as the scenario's content. (Such a file's project, named after it, is
    # refused by the scenario's checks; the header is written before them.)
    data = instance_scenario(J30 / "j301_1.sm")
    text = to_yaml(data, Path(name))
    header = text.split("\nname:")[0]
    assert all(line.startswith("# ") for line in header.split("\n"))
    assert not any(ch in header for ch in "\r\x85\u2028\u2029")
    assert read_yaml(text, "imported")[0] == data


@pytest.mark.parametrize("path", INSTANCES[:5], ids=lambda p: p.name)
def test_imported_critical_path_is_the_files_mpm_time_and_below_the_optimum(path: Path) -> None:
    sc = scenario_from_dict(instance_scenario(path))
    net = compile_network(sc.projects[0], sc)
    length = cpm(net.preds, net.planned).length
    assert length == read_sm(path).critical_path
    cp, optimum = _known_results()[path.stem]
    assert length == cp <= optimum


def test_j301_1_is_mapped_exactly() -> None:
    data = instance_scenario(J30 / "j301_1.sm")
    assert data["name"] == "j301_1" and data["horizon"] == 159  # durations sum to 158
    assert data["resources"] == {f"R{k}": {"kind": "equipment", "units": u}
                                 for k, u in ((1, 12), (2, 13), (3, 4), (4, 12))}
    [project] = data["projects"]
    assert (project["name"], project["arrival"], project["due"]) == ("j301_1", 0, 38)
    tasks = {t["name"]: t for t in project["tasks"]}
    assert list(tasks) == [f"j{n}" for n in range(2, 32)]  # dummy jobs 1 and 32 dropped
    assert tasks["j2"] == {"name": "j2", "duration": 8, "needs": {"R1": 4}}
    assert tasks["j20"] == {"name": "j20", "duration": 7, "needs": {"R2": 10}, "after": ["j5", "j11", "j18"]}
    assert tasks["j26"] == {"name": "j26", "duration": 7, "needs": {"R3": 4}, "after": ["j11"]}
    assert tasks["j30"] == {"name": "j30", "duration": 2, "needs": {"R2": 7}, "after": ["j6", "j24", "j25"]}
    assert tasks["j31"] == {"name": "j31", "duration": 2, "needs": {"R3": 2}, "after": ["j26", "j28"]}


def test_mpsplib_portfolio_shares_global_resources_and_keeps_local_ones() -> None:
    data = instance_scenario(MP / "mp_j30_a2_nr2.xml")
    assert data["name"] == "mp_j30_a2_nr2"
    assert {k: v["units"] for k, v in data["resources"].items()} == {
        "R1": 21, "R2@j309_9": 15, "R3@j309_9": 15, "R4@j309_9": 16,
        "R2@j3033_3": 11, "R3@j3033_3": 9, "R4@j3033_3": 7}
    first, second = data["projects"]
    assert (first["name"], first["arrival"], first["due"]) == ("j309_9", 0, 37)
    assert (second["name"], second["arrival"], second["due"]) == ("j3033_3", 5, 42)
    assert first["tasks"][0] == {"name": "j2", "duration": 5,
                                 "needs": {"R1": 5, "R3@j309_9": 8, "R4@j309_9": 3}}
    assert data["horizon"] == 144 + 160 + 5 + 1  # both projects' durations, last release, one day
    cp, known = _known_results()["mp_j30_a2_nr2"]
    sc = scenario_from_dict(data)
    bound = max(p.arrival + cpm(n.preds, n.planned).length
                for p in sc.projects for n in [compile_network(p, sc)])
    assert bound == cp <= known


def test_a_file_named_twice_gives_numbered_projects_with_their_own_local_pools(tmp_path: Path) -> None:
    shutil.copy(J30 / "j3020_9.sm", tmp_path / "j3020_9.sm")
    (tmp_path / "twice.xml").write_text(
        "<mp-list><mp><name>twice</name><project-list>"
        "<project><filename>KolischInstanzen/j30/j3020_9.sm</filename><start>0</start></project>"
        "<project><filename>j3020_9.sm</filename><start>3</start></project>"
        "</project-list><resources><resource>0</resource><resource>20</resource>"
        "<resource>0</resource><resource>0</resource></resources></mp></mp-list>", encoding="utf-8")
    data = instance_scenario(tmp_path / "twice.xml")  # the first name is found beside the .xml
    assert [p["name"] for p in data["projects"]] == ["j3020_9-1", "j3020_9-2"]
    assert [p["arrival"] for p in data["projects"]] == [0, 3]
    assert sorted(data["resources"]) == ["R1@j3020_9-1", "R1@j3020_9-2", "R2", "R3@j3020_9-1", "R3@j3020_9-2",
                                         "R4@j3020_9-1", "R4@j3020_9-2"]
    assert data["resources"]["R2"]["units"] == 20 and data["resources"]["R1@j3020_9-2"]["units"] == 18
    scenario_from_dict(data)


# --------------------------------------------------------------------------- malformed files


def _broken(tmp_path: Path, edit: object, name: str = "broken.sm") -> Path:
    lines = (J30 / "j301_1.sm").read_text(encoding="utf-8").splitlines()
    lines = edit(lines)  # type: ignore[operator]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _replace(line: int, old: str, new: str) -> object:
    def edit(lines: list[str]) -> list[str]:
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        return lines
    return edit


def _only_dummies() -> list[str]:
    return ["projects :  1", "jobs (incl. supersource/sink ):  2", "RESOURCES",
            "  - renewable :  1   R", "  - nonrenewable :  0   N", "  - doubly constrained :  0   D",
            "PROJECT INFORMATION:", "pronr.  #jobs rel.date duedate tardcost  MPM-Time",
            "    1     0      0       38       26       38", "PRECEDENCE RELATIONS:",
            "jobnr.    #modes  #successors   successors", "  1  1  1  2", "  2  1  0",
            "REQUESTS/DURATIONS:", "jobnr. mode duration  R 1", "------", "  1  1  0  0",
            "  2  1  0  0", "RESOURCEAVAILABILITIES:", "  R 1", "   2"]


# j301_1.sm: line 19 is job 1's precedence line, line 56 job 2's requests, line 90 the availabilities.
MALFORMED = {
    "truncated": (lambda lines: lines[:40],
                  "broken.sm:40:1: the file ends where job 23: number, modes, successor count, successors "
                  "was expected"),
    "bad duration": (_replace(56, "  8 ", "  x "),
                     "broken.sm:56:16: expected whole numbers (job 2: number, mode, duration and 4 requests) "
                     "(got 'x')"),
    "negative request": (_replace(56, "4    0", "-4   0"), "broken.sm:56:24: expected whole numbers"),
    "successor count": (_replace(20, "3           6", "2           6"),
                        "broken.sm:20:24: says 2 successors but lists 3"),
    "unknown successor": (_replace(20, " 15", " 33"),
                          "broken.sm:20:43: a successor must be another job, 1 to 32 (got 33)"),
    "multi-mode": (_replace(20, "   2        1", "   2        2"),
                   "broken.sm:20:13: only single-mode instances (.sm) can be imported: expected 1 mode "
                   "(got 2)"),
    "job out of order": (_replace(57, "  3      1", "  4      1"),
                         "broken.sm:57:3: expected job 3 here (got 4)"),
    "cycle": (_replace(48, "1          32", "1           6"),
              "broken.sm:24:1: precedence cycle through jobs 6, 30"),
    "request above capacity": (_replace(90, "4   12", "3   12"),
                               "broken.sm:80:34: job 26 requests 4 units of resource R3, but only 3 are "
                               "available (got 4)"),
    "two projects": (_replace(5, ":  1", ":  2"), "broken.sm:5:1: a .sm file holds one project (got 2)"),
    "superscript digit": (_replace(6, "32", "3\u00b2"),
                          "broken.sm:6:34: expected a whole number after 'jobs' (got '3\u00b2')"),
    "too many digits": (_replace(19, "  1  ", "  " + "9" * 5000 + "  "),
                        "broken.sm:19:4: expected whole numbers of at most 15 digits (job 1: number, "
                        "modes, successor count, successors) (got '999"),
    # before: each located in the generated scenario ("<scenario imported from broken.sm>:8:32:
    # resources.R1.units", ":6:10: horizon", ":14:7: projects.0.tasks")
    "availability too large": (_replace(90, "   12", "500000", ),
                               "broken.sm:90:1: a resource's availability must be at most 100,000 "
                               "(got 500000)"),
    "release too late": (_replace(15, "      0  ", "  9999999  "),
                         "broken.sm:15:15: the release date: the horizon (this release date, then "
                         "every job's duration, 158 days in all, plus one) must be at most "
                         "1,000,000 days (got 9999999)"),
    "duration too long": (_replace(56, "  8 ", "  99999999999 "),
                          "broken.sm:56:16: a job's duration: the horizon (every job's duration, "
                          "99,999,999,999 days up to this one, plus one) must be at most 1,000,000 "
                          "days (got 99999999999)"),
    "only the dummies": (lambda lines: _only_dummies(),
                         "broken.sm:2:1: a project needs 1 to 5,000 tasks: jobs besides the dummy "
                         "start and end (the first and last, of duration 0 without requests) (got 2)"),
    # Refused at its count, before its lines are read (a real one of 95,000 jobs took 11 s):
    # here the file then has 32, and before that was what was refused.
    "too many jobs": (_replace(6, " 32", " 95000"),
                      "broken.sm:6:1: a project needs 1 to 5,000 tasks: jobs besides the dummy "
                      "start and end (the first and last, of duration 0 without requests) (got 95000)"),
    "missing section": (lambda lines: [x for x in lines if "RESOURCEAVAILABILITIES" not in x],
                        "broken.sm:90:1: expected a line starting with 'RESOURCEAVAILABILITIES', but the "
                        "file ends"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_instance_is_refused_at_its_line(case: str, tmp_path: Path) -> None:
    edit, expected = MALFORMED[case]
    path = _broken(tmp_path, edit)
    code, stdout, stderr = _invoke("import", "psplib", str(path))
    assert code == 2 and stdout == ""
    assert "Traceback" not in stderr
    assert stderr.startswith(str(tmp_path / expected.split(":")[0]) + ":"), stderr
    assert expected in stderr.replace(str(tmp_path) + "/", ""), stderr


def _portfolio(tmp_path: Path, body: str) -> Path:
    shutil.copy(J30 / "j301_1.sm", tmp_path / "j301_1.sm")
    path = tmp_path / "mp.xml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = ("<mp-list>\n<mp>\n<name>mp</name>\n<project-list>\n<project>\n<filename>{file}</filename>\n"
        "<start>{start}</start>\n</project>\n</project-list>\n<resources>\n<resource>0</resource>\n"
        "<resource>0</resource>\n<resource>0</resource>\n<resource>0</resource>\n</resources>\n</mp>\n</mp-list>\n")

BAD_PORTFOLIOS = {
    "not xml": (GOOD.format(file="j301_1.sm", start=0).replace("</project-list>", ""),
                "mp.xml:16:3: not valid XML: mismatched tag"),
    "bad start": (GOOD.format(file="j301_1.sm", start="soon"),
                  "mp.xml:7:1: a project's start must be a whole number, 0 or more (got 'soon')"),
    "missing file": (GOOD.format(file="lost/j999_1.sm", start=0), "mp.xml:6:1: project file not found"),
    "outside": (GOOD.format(file="../j301_1.sm", start=0),
                "mp.xml:6:1: a project file must be inside the folder of the portfolio file "
                "(got '../j301_1.sm')"),
    "entity": ('<!DOCTYPE mp-list [<!ENTITY a "aaaa">]>\n' + GOOD.format(file="j301_1.sm", start=0),
               "mp.xml:1:31: entity declarations are not allowed"),
    "resource count": (GOOD.format(file="j301_1.sm", start=0).replace("<resource>0</resource>\n</resources>",
                                                                    "</resources>"),
                       "mp.xml:6:1: j301_1.sm has 4 renewable resources, the portfolio 3"),
    "no mp": ("<other/>\n", "mp.xml:1:1: no <mp> element"),
    # before: tracebacks, int() refusing what str.isdigit() had taken
    "superscript digit": (GOOD.format(file="j301_1.sm", start="\u00b2"),
                          "mp.xml:7:1: a project's start must be a whole number, 0 or more (got '\u00b2')"),
    "too many digits": (GOOD.format(file="j301_1.sm", start="9" * 5000),
                        "mp.xml:7:1: a project's start must be a whole number, 0 or more, of at most 15 "
                        "digits (got '999"),
    # before: located in the generated scenario ("<scenario imported from mp.xml>:6:10: horizon")
    "start too large": (GOOD.format(file="j301_1.sm", start="9" * 15),
                        "mp.xml:7:1: a project's start must be at most 999,999 (got 999999999999999)"),
    "horizon too long": (GOOD.format(file="j301_1.sm", start=999_990),
                         "mp.xml:7:1: a project's start: the horizon (this latest start, then every "
                         "job's duration, 158 days in all, plus one) must be at most 1,000,000 days "
                         "(got 999990)"),
    "capacity too large": (GOOD.format(file="j301_1.sm", start=0).replace(
        "<resource>0</resource>", "<resource>999999999999999</resource>", 1),
        "mp.xml:11:1: a resource capacity must be at most 100,000 (got 999999999999999)"),
}


@pytest.mark.parametrize("case", sorted(BAD_PORTFOLIOS))
def test_malformed_portfolio_is_refused_at_its_line(case: str, tmp_path: Path) -> None:
    body, expected = BAD_PORTFOLIOS[case]
    path = _portfolio(tmp_path, body)
    code, stdout, stderr = _invoke("import", "psplib", str(path))
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert expected in stderr.replace(str(tmp_path) + "/", ""), stderr


def test_a_project_file_that_is_a_loop_of_links_is_refused_at_its_element(tmp_path: Path) -> None:
    # before: a traceback (RuntimeError: Symlink loop from '.../loop.sm')
    path = _portfolio(tmp_path, GOOD.format(file="loop.sm", start=0))
    (tmp_path / "loop.sm").symlink_to(tmp_path / "loop.sm")
    code, stdout, stderr = _invoke("import", "psplib", str(path))
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert stderr.startswith(f"{path}:6:1: cannot follow the project file: Too many levels of "
                             f"symbolic links (got 'loop.sm')\n"), stderr


def test_unusable_arguments_are_refused(tmp_path: Path) -> None:
    code, _, stderr = _invoke("import", "psplib", str(tmp_path / "none.sm"))
    assert code == 2 and stderr.startswith(f"{tmp_path / 'none.sm'}: file not found")
    (tmp_path / "x.rcp").write_text("4 2\n", encoding="utf-8")
    code, _, stderr = _invoke("import", "psplib", str(tmp_path / "x.rcp"))
    assert code == 2 and "expected a PSPLIB single-mode instance (.sm) or an MPSPLIB portfolio" in stderr
    (tmp_path / "bin.sm").write_bytes(b"projects : 1\n\xff\xfe\n")
    code, _, stderr = _invoke("import", "psplib", str(tmp_path / "bin.sm"))
    assert code == 2 and f"{tmp_path / 'bin.sm'}:2:1: not a text file (byte 0xff)" in stderr
    out = tmp_path / "taken.yaml"
    out.write_text("precious", encoding="utf-8")
    code, _, stderr = _invoke("import", "psplib", str(J30 / "j301_1.sm"), "--out", str(out))
    assert code == 2 and "already exists; use --force" in stderr
    assert out.read_text(encoding="utf-8") == "precious"
    assert _invoke("import", "psplib", str(J30 / "j301_1.sm"), "--out", str(out), "--force")[0] == 0
    assert load_scenario(out).name == "j301_1"


def test_an_empty_instance_is_located_at_line_1(tmp_path: Path) -> None:
    # before: "empty.sm:0:1" (lines count from 1)
    from pmo_sim.errors import ScenarioError
    from pmo_sim.io.psplib import import_instance

    empty = tmp_path / "empty.sm"
    empty.write_text("")
    with pytest.raises(ScenarioError) as info:
        import_instance(empty)
    assert str(info.value.problems[0]).startswith(f"{empty}:1:1: ")
