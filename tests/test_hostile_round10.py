"""Edges a tenth hostile-input probe found.

- a pool, project, task, policy or the scenario named ``" "`` (only spaces), or ``" dev"``
  with spaces around it: accepted. A blank name shows as nothing in every table, and
  ``" dev"`` looks like ``dev`` but is another name. Both are refused now, located;
- ``run --out R --resume --force`` (and ``run_experiment(resume=True, force=True)``): the run
  resumed, --force ignored without a word. The two are a usage error now (exit 2), R untouched;
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
