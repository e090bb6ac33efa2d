"""Nothing already written is replaced without ``--force`` (SPEC 9): the files ``trace``,
``sweep``, ``sensitivity``, ``frontier``, ``schema --out``, ``new`` and ``import psplib``
would write are checked before any work; found, the command exits 2 naming them and leaves
them as they were; with ``--force`` they are replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def no_study(*args: object, **kwargs: object) -> None:
    raise AssertionError("the study ran before its outputs were checked")


@pytest.mark.parametrize("command,module,files", [
    (("sweep", "--vary", "resources.dev.headcount=2,3"), "pmo_sim.experiment.sweep.sweep",
     ["sweep.csv", "sweep.png"]),
    (("trace", "--policy", "base", "--replication", "0"), "pmo_sim.experiment.single.simulate",
     ["trace-base-r0.csv", "trace-base-r0.png"]),
])
def test_a_second_study_into_the_default_folder_is_refused_before_any_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], module: str,
        files: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = write_tiny(tmp_path)
    args = (command[0], str(scenario), *command[1:], "-n", "1", "-j", "1") if command[0] == "sweep" else \
        (command[0], str(scenario), *command[1:])
    code, output = invoke(*args)
    assert code == 0, output
    folder = next((tmp_path / "results").iterdir())
    written = {name: (folder / name).read_bytes() for name in files}
    (folder / files[0]).write_text("the user's edits\n")  # kept, whatever the command would write
    with monkeypatch.context() as m:
        m.setattr(module, no_study)
        code, output = invoke(*args)
    assert code == 2
    shown = folder.relative_to(tmp_path)  # as the user would write it
    assert f"{shown / files[0]} and {shown / files[1]} already exist; use --force to " \
           "overwrite them" in output
    assert (folder / files[0]).read_text() == "the user's edits\n"
    assert (folder / files[1]).read_bytes() == written[files[1]]
    code, output = invoke(*args, "--force")
    assert code == 0, output
    assert (folder / files[0]).read_bytes() == written[files[0]]  # the same study, written again


def test_one_file_left_is_enough_to_refuse(tmp_path: Path) -> None:
    scenario = write_tiny(tmp_path)
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.png").write_bytes(b"a figure of the user's")
    code, output = invoke("sweep", str(scenario), "--vary", "resources.dev.headcount=2,3", "-n", "1",
                          "-j", "1", "--out", str(out))
    assert code == 2 and f"{out / 'sweep.png'} already exists; use --force to overwrite it" in output
    assert not (out / "sweep.csv").exists()


def test_schema_and_new_keep_what_is_there(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text("mine\n")
    code, output = invoke("schema", "--out", str(target))
    assert code == 2 and "already exists; use --force" in output and target.read_text() == "mine\n"
    assert invoke("schema", "--out", str(target), "--force")[0] == 0
    assert target.read_text().startswith("{")
    starter = tmp_path / "mine.yaml"
    starter.write_text("name: mine\n")
    code, output = invoke("new", "mine", "--dir", str(tmp_path))
    assert code == 2 and starter.read_text() == "name: mine\n"
    assert invoke("new", "mine", "--dir", str(tmp_path), "--force")[0] == 0
    assert "policies:" in starter.read_text()


@pytest.mark.parametrize("name", ["bad\x1bname", "tab\there", "line\nbreak", "nul\x7f"])
def test_new_refuses_a_name_with_control_characters(tmp_path: Path, name: str) -> None:
    code, output = invoke("new", name, "--dir", str(tmp_path))
    assert code == 2 and "NAME must be printable" in output
    assert list(tmp_path.iterdir()) == []
