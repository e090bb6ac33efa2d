"""Examples that README.md and the ``--help`` texts show work as written (round 2 of reading them).

A reader copies a documented command verbatim: a ``sensitivity`` range whose low end makes an
invalid scenario (``resources.testers.headcount=1:3`` on a portfolio whose test tasks need two
testers) or a help example that relies on a scenario section the starter does not have stops
them before anything runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
VARY = re.compile(r"--vary\s+([\w.]+)=([-\d.e]+):([-\d.e]+)(?=\s|\\|$)")


def _sensitivity_examples(text: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each ``pmo-sim sensitivity scenarios/...`` example (continued lines joined) with its ranges."""
    joined = re.sub(r"\\\s*\n\s*", " ", text)
    examples = []
    for line in joined.splitlines():
        match = re.search(r"pmo-sim sensitivity (scenarios/\S+\.yaml)(.*)", line)
        if match and "..." not in match.group(2):
            examples.append((match.group(1), VARY.findall(match.group(2))))
    return examples


def _help(*command: str) -> str:
    result = CliRunner().invoke(main, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("source", ["README.md", "sensitivity --help"])
def test_every_documented_sensitivity_range_gives_a_valid_scenario_at_both_ends(source: str) -> None:
    text = (ROOT / source).read_text(encoding="utf-8") if source.endswith(".md") else _help("sensitivity")
    examples = _sensitivity_examples(text)
    assert examples and all(ranges for _, ranges in examples), examples
    for scenario, ranges in examples:
        for path, low, high in ranges:
            for value in (low, high):
                number = float(value)
                setting = int(number) if number.is_integer() else number
                load_scenario(ROOT / scenario, overrides={path: setting})


def test_the_starter_has_the_sensitivity_section_the_help_example_uses(tmp_path: Path) -> None:
    assert "pmo-sim sensitivity my-portfolio.yaml -n 30" in _help("sensitivity")
    runner = CliRunner()
    made = runner.invoke(main, ["new", "my-portfolio", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    scenario = tmp_path / "my-portfolio.yaml"
    assert load_scenario(scenario).sensitivity is not None
    ran = runner.invoke(main, ["sensitivity", str(scenario), "-n", "2", "-j", "1", "--policy", "baseline",
                               "--out", str(tmp_path / "study"), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    assert {"resources.developers.headcount", "changes.per_project_per_year"} <= set(ran.stdout.split('"'))


def test_one_replication_is_written_in_the_singular(tmp_path: Path) -> None:
    """The README's PSPLIB example runs ``-n 1``: its header read '1 policy x 1 replications'."""
    imported = tmp_path / "j301_1.yaml"
    made = CliRunner().invoke(main, ["import", "psplib", str(ROOT / "tests/data/psplib/j30/j301_1.sm"),
                                     "--out", str(imported)])
    assert made.exit_code == 0, made.output
    ran = CliRunner().invoke(main, ["run", str(imported), "-n", "1", "--policy", "lft", "-j", "1", "-q",
                                    "--out", str(tmp_path / "r")], env={"COLUMNS": "100"})
    assert ran.exit_code == 0, ran.output
    assert "1 policy x 1 replication, seed 0" in ran.output
    assert "(1 replication each)" in ran.output
    assert "1 replications" not in ran.output


@pytest.mark.parametrize("command", [
    ["sensitivity", "--vary", "resources.testers.headcount=1:3"],
    ["sweep", "--vary", "resources.testers.headcount=1,2"],
])
def test_a_varied_value_that_breaks_another_field_is_named(command: list[str], tmp_path: Path) -> None:
    """README: bad ranges are 'located at --vary'. The old sensitivity example (testers 1:3) was
    refused at four task lines about 'headcount 1', without saying which --vary made it."""
    args = [command[0], str(ROOT / "scenarios/baseline.yaml"), *command[1:], "--policy", "baseline",
            "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "crew is larger than pool 'testers'" in line]
    assert len(lines) == 4, result.stderr
    assert all("[at resources.testers.headcount=1]" in line for line in lines), lines
    assert not (tmp_path / "out").exists()



class _Small:
    """``pmo_sim`` with every study cut to a few replications in this process."""

    STUDIES = ("run_experiment", "roi", "frontier", "sensitivity")

    def __getattr__(self, name: str) -> Any:
        import pmo_sim

        function = getattr(pmo_sim, name)
        if name not in self.STUDIES:
            return function
        return lambda *args, **kwargs: function(*args, **{**kwargs, "replications": 2, "jobs": 1})


def test_the_api_example_in_the_package_docstring_runs(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``help(pmo_sim)`` (``ps?`` in Jupyter) shows an example of every name. Run on baseline.yaml
    as written, its roi (no 'upskill' policy), risk_drivers (no risk register) and frontier (no
    funding rule) lines raised UsageError. Run here as written, with few replications."""
    import pmo_sim

    doc = pmo_sim.__doc__ or ""
    code = "\n".join(line[4:] for line in doc.split("::", 1)[1].split("\n\n")[1].splitlines())
    assert code.startswith("import pmo_sim as ps\n"), code
    code = code.replace("import pmo_sim as ps\n", "", 1)
    code = code.replace('"report.html"', repr(str(tmp_path / "r.html")))
    monkeypatch.chdir(ROOT)
    exec(compile(code, "pmo_sim.__doc__", "exec"), {"ps": _Small()})  # noqa: S102 - the package's own example
    assert (tmp_path / "r.html").is_file()


def test_the_json_schema_lists_the_rules_editors_should_offer() -> None:
    """schema --help: editors use the schema 'to complete and check scenario files as you type';
    the allocation and funding rules were plain strings there, so an editor offered none and
    accepted any word."""
    import jsonschema

    from pmo_sim.rules.allocation import ALLOCATION_RULES
    from pmo_sim.rules.funding import FUNDING_RULES
    from pmo_sim.scenario.schema import scenario_json_schema

    schema = scenario_json_schema()
    defs = schema["$defs"]
    assert defs["ResourceManager"]["properties"]["allocation"]["enum"] == list(ALLOCATION_RULES)
    funding = [d for d in defs.values() if "rule" in d.get("properties", {})]
    assert funding and all(d["properties"]["rule"]["enum"] == list(FUNDING_RULES) for d in funding)
    validator = jsonschema.Draft202012Validator(schema)
    bad = {"name": "x", "horizon": 10, "resources": {"dev": {"headcount": 1, "day_rate": 1}},
           "pmo": {"resource_manager": {"allocation": "fastest"}}}
    assert any("fastest" in e.message for e in validator.iter_errors(bad))
    assert not list(validator.iter_errors({**bad, "pmo": {"resource_manager": {"allocation": "lft"}}}))
