"""Options that take a number refuse digits that are not ASCII (Python's int() and float()
read ``٣``, an Arabic-Indic three, and full-width ``３`` as 3): exit 2, the option named."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.cli.common import _Plain
from pmo_sim.experiment.frontier import parse_budgets

ARABIC_THREE = "\u0663"
FULL_WIDTH_THREE = "\uff13"


def _numeric_options() -> list[tuple[str, click.Option]]:
    return [(name, param) for name, command in sorted(main.commands.items())
            for param in command.params
            if isinstance(param, click.Option) and isinstance(param.type, click.types._NumberParamTypeBase)]


def test_every_number_option_follows_the_one_rule() -> None:
    options = _numeric_options()
    assert len(options) >= 8
    assert [f"{name} {p.opts[-1]}" for name, p in options if not isinstance(p.type, _Plain)] == []


@pytest.mark.parametrize("digit", [ARABIC_THREE, FULL_WIDTH_THREE])
@pytest.mark.parametrize(("command", "option"),
                         [(name, p.opts[-1]) for name, p in _numeric_options()],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_a_number_option_refuses_non_ascii_digits(command: str, option: str, digit: str) -> None:
    arguments = ["x"] * sum(isinstance(p, click.Argument) for p in main.commands[command].params)
    result = CliRunner().invoke(main, [command, *arguments, option, digit])
    assert result.exit_code == 2, result.output
    assert option in result.output and repr(digit) in result.output
    assert "ASCII digits" in result.output and "Traceback" not in result.output


def test_forecast_by_refuses_non_ascii_digits(tmp_path: object) -> None:
    from pmo_sim.analysis.forecast import by_day
    from pmo_sim.errors import UsageError

    with pytest.raises(UsageError, match="ASCII digits") as caught:
        by_day(ARABIC_THREE, 100.0, None)
    assert repr(ARABIC_THREE) in str(caught.value)
    assert by_day(" 3 ", 100.0, None) == 3.0


def test_frontier_budget_refuses_non_ascii_digits() -> None:
    from pmo_sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="ASCII digits"):
        parse_budgets(f"0:1e6:{ARABIC_THREE}")
    assert parse_budgets("0:1e6:3") == [0.0, 500000.0, 1000000.0]
