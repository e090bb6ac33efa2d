"""Names read from a results folder act on no terminal: the manifest's scenario name follows
the rule of a scenario's names (as its policies do), and table cells and titles are shown with
unprintable characters escaped. Before, an edited folder's escape sequences reached the
terminal raw: ``compare`` printed a scenario named "\\x1b[2J..." (clearing the screen), and
``forecast`` printed project names with colour codes and bidirectional overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pmo_sim.cli import main


@pytest.fixture
def folder(tiny_results: Path) -> Path:
    return tiny_results


def test_a_manifest_scenario_name_with_control_characters_is_refused(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["scenario"] = "\x1b[2Jx"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    out = CliRunner().invoke(main, ["compare", str(folder)])
    assert out.exit_code == 2
    assert "manifest.json: scenario: '\\x1b[2Jx': a name must not contain control characters" in out.output
    assert "\x1b" not in out.output


def test_project_names_of_an_edited_table_are_shown_escaped(folder: Path) -> None:
    table = pq.read_table(folder / "projects.parquet")
    names = ["\x1b[31m\u202e" + name for name in table["project"].to_pylist()]
    table = table.set_column(table.schema.get_field_index("project"), "project", pa.array(names))
    pq.write_table(table, folder / "projects.parquet")
    out = CliRunner().invoke(main, ["forecast", str(folder)])
    assert out.exit_code == 0, out.output
    assert "\\x1b[31m\\u202eP" in out.output
    assert "\x1b" not in out.output and "\u202e" not in out.output
