"""Execute every notebook in ``notebooks/``: a cell that raises fails the test with its error.

Notebooks are found by globbing, so a new notebook is tested without touching this file. Each
runs top to bottom in a fresh ``python3`` kernel with the notebooks folder as its working
directory and the non-interactive ``Agg`` matplotlib backend. jupyter_client launches the
``python3`` kernelspec with this interpreter (``sys.executable``), so the kernel sees the same
installed ``pmo_sim`` as the tests; ``ipykernel`` (a dev extra) provides that kernelspec.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbclient.exceptions import CellExecutionError  # noqa: E402

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {"portfolio_analysis.ipynb", "training_roi.ipynb"}
KERNEL = "python3"
TIMEOUT = 300
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_notebooks_are_there() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert len(NOTEBOOKS) >= 2, f"expected at least two notebooks in {NOTEBOOKS_DIR}, found {sorted(names)}"
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
    try:
        client.execute()
    except CellExecutionError as exc:
        # str(exc) holds the cell's source and the kernel's traceback.
        pytest.fail(f"{path.name}: a cell raised\n{ANSI.sub('', str(exc))}", pytrace=False)
