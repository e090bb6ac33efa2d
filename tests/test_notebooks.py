"""Execute every notebook in ``notebooks/``: a cell that raises fails the test with its error.

Notebooks are found by globbing, so a new notebook is tested without touching this file. Each
runs top to bottom in a fresh ``python3`` kernel with the notebooks folder as its working
directory and the non-interactive ``Agg`` matplotlib backend, within a minute. jupyter_client
launches the ``python3`` kernelspec with this interpreter (``sys.executable``), so the kernel
sees the same installed ``pmo_sim`` as the tests; ``ipykernel`` (a dev extra) provides that
kernelspec.

A cell tagged ``roi-document`` prints an ROI document (``RoiResult.to_json()``) of
``scenarios/training.yaml``; the test runs ``pmo-sim roi`` on that scenario with the same
policy, question, replications, seed and basis, and
every number must agree to the cent: the notebook and the command line call one function.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbclient.exceptions import CellExecutionError  # noqa: E402

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {"portfolio_analysis.ipynb", "training_roi.ipynb", "capacity_and_funding.ipynb"}
KERNEL = "python3"
TIMEOUT = 120      # per cell
BUDGET = 60.0      # seconds per notebook
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_notebooks_are_there() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert len(NOTEBOOKS) >= 3, f"expected at least three notebooks in {NOTEBOOKS_DIR}, found {sorted(names)}"
    assert names >= EXPECTED, f"missing notebooks: {sorted(EXPECTED - names)}"


@pytest.fixture(scope="module")
def kernel_available() -> None:
    """Fail early and clearly when the ``python3`` kernelspec cannot be found."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # pragma: no cover - depends on the environment
        pytest.fail(f"no Jupyter kernel {KERNEL!r}: install ipykernel into this environment "
                    f"({sys.executable} -m pip install ipykernel)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_available: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")  # inherited by the kernel process
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL, \
        f"{path.name}: kernelspec should be {KERNEL!r}"
    stale = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
    assert not stale, f"{path.name}: clear the outputs before saving (code cells {stale})"

    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(path.parent)}})
    started = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as exc:
        # str(exc) holds the cell's source and the kernel's traceback.
        pytest.fail(f"{path.name}: a cell raised\n{ANSI.sub('', str(exc))}", pytrace=False)
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET, f"{path.name} took {elapsed:.0f} s (keep notebooks under {BUDGET:.0f} s)"
    for cell in nb.cells:
        if "roi-document" in cell.get("metadata", {}).get("tags", []):
            _agrees_with_the_cli(path.name, _printed_json(cell))


def _printed_json(cell: Any) -> dict[str, Any]:
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
    return dict(json.loads(text))


def _agrees_with_the_cli(name: str, document: dict[str, Any]) -> None:
    from pmo_sim.cli import main

    q = document["question"]
    scenario = NOTEBOOKS_DIR.parent / "scenarios" / "training.yaml"
    args = ["roi", str(scenario), "--policy", document["policy"], "-n", str(document["replications"]),
            "--seed", str(document["seed"]), "--basis", q["basis"], "--format", "json", "-j", "1"]
    args += ["--programme", q["programme"]] if q["programme"] else ["--against", q["against"]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    for key, value in cli.items():
        mine = document[key]
        if isinstance(value, float):
            assert round(value, 2) == round(mine, 2), f"{name}: {key} {mine} != CLI {value}"
        else:
            assert value == mine, f"{name}: {key} {mine!r} != CLI {value!r}"
