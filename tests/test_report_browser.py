"""The report in a real browser: headless Chromium opens it, and every section and figure must
render, with no horizontal overflow at 1280 px nor in the print layout.

How: a copy of the report gets a small script at the end of its body that measures the laid-out
page (section heights, each figure's box, the page's scroll width, any element reaching past
the window's right edge, tables scrolled inside their box) and writes the numbers into the
DOM; ``chromium --dump-dom`` prints that DOM and the test reads them back. The print layout
is the same page with its ``@media print`` rules applied to the screen, at the width of an A4
page's printable area (718 px at 96 dpi). Full-page
screenshots of both layouts (and a PDF printed by Chromium) are saved under
``results/test-artefacts/`` (git-ignored) for a person to look at.

Skipped, with the reason, when no Chromium binary is on PATH; in CI (``CI=true``), where
``.ci/run`` installs Debian's ``chromium``, a missing browser is a failure instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

import pmo_sim
from pmo_sim.analysis.report import write_report
from pmo_sim.scenario.loader import load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "results" / "test-artefacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
if CHROMIUM is None and os.environ.get("CI") == "true":
    pytest.fail("no chromium binary on PATH in CI: .ci/run should have installed it", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (install "
                                "Debian's chromium: apt-get install -y chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--disable-dev-shm-usage"]
PRINT_WIDTH = 718   # A4 (210 mm) less Chromium's default print margins, at 96 px per inch
MEASURE = """<script>
(function () {
  var w = window.innerWidth, box = function (e) { return e.getBoundingClientRect(); };
  var m = {
    width: w,
    scrollWidth: document.documentElement.scrollWidth,
    height: Math.ceil(document.documentElement.scrollHeight),
    sections: Array.from(document.querySelectorAll("section")).map(function (s) {
      return {id: s.id, height: box(s).height}; }),
    figures: Array.from(document.querySelectorAll("figure svg")).map(function (s) {
      return {label: s.getAttribute("aria-label"), width: box(s).width, height: box(s).height,
              right: box(s).right, texts: s.querySelectorAll("text").length,
              marks: s.querySelectorAll("path, rect, line, polyline").length}; }),
    clipped: Array.from(document.querySelectorAll(".table-wrap")).filter(function (t) {
      return t.scrollWidth > t.clientWidth + 1; }).length,
    beyond: Array.from(document.querySelectorAll("body *")).filter(function (e) {
      return box(e).right > w + 0.5; }).slice(0, 8).map(function (e) {
      return e.tagName + "." + e.className; })
  };
  var pre = document.createElement("pre");
  pre.id = "measurements";
  pre.textContent = JSON.stringify(m);
  document.body.appendChild(pre);
})();
</script>"""


def chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="pmo-sim-chromium-") as profile:
        out = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
                             capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def print_layout(html: str) -> str:
    """The page with its print rules applied on screen."""
    return html.replace("@media print", "@media all")


def measure(page: Path, width: int) -> dict[str, Any]:
    probe = page.with_name(page.stem + "-probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                     encoding="utf-8")
    dom = chromium(f"--window-size={width},900", "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="measurements">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return dict(json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")))


def check_page(page: Path, name: str, sections: set[str], min_figures: int) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    printable = page.with_name(page.stem + "-print.html")
    printable.write_text(print_layout(page.read_text(encoding="utf-8")), encoding="utf-8")
    for layout, source, width in (("screen", page, 1280), ("print", printable, PRINT_WIDTH)):
        m = measure(source, width)
        where = f"{name} ({layout} layout, {width} px)"
        assert {s["id"] for s in m["sections"]} >= sections, where
        assert all(s["height"] > 20 for s in m["sections"]), (where, m["sections"])
        assert len(m["figures"]) >= min_figures, where
        for fig in m["figures"]:
            assert fig["width"] > 200 and fig["height"] > 100, (where, fig)
            assert fig["texts"] > 3 and fig["marks"] > 3, (where, fig)   # labels and drawing
            assert fig["right"] <= width + 0.5, (where, fig)
        assert m["scrollWidth"] <= width, (where, "horizontal overflow", m["beyond"])
        assert not m["beyond"] and m["clipped"] == 0, (where, m["beyond"], m["clipped"])
        shot = ARTEFACTS / f"{name}-{layout}.png"
        chromium(f"--window-size={width},{min(m['height'] + 40, 16000)}", f"--screenshot={shot}",
                 source.as_uri())
        assert shot.stat().st_size > 50_000, shot
    pdf = ARTEFACTS / f"{name}.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000


BASE_SECTIONS = {"summary", "kpis", "comparison", "distributions", "forecast", "over-time", "pools",
                 "method", "provenance"}
# The baseline portfolio dated, so that the forecast section shows dates (and a holiday).
CALENDAR = "calendar:\n  start_date: 2027-01-04\n  holidays: [2027-04-02, 2027-12-24]\n"


def test_policy_report_renders_in_chromium(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8") + CALENDAR
    sc = load_scenario_text(text, "baseline.yaml")
    res = pmo_sim.run_experiment(sc, replications=12, seed=3, jobs=1, out=tmp_path / "run")
    page = write_report(res, tmp_path / "run" / "report.html")
    assert "Dates are working days" in page.read_text(encoding="utf-8")
    check_page(page, "report-baseline", BASE_SECTIONS, min_figures=7)


def test_roi_report_renders_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "course"
    pmo_sim.roi(ROOT / "scenarios" / "training.yaml", "upskill", programme="dev-course",
                replications=8, seed=1, jobs=1, out=out)
    page = write_report(pmo_sim.load_results(out), out / "report.html")
    check_page(page, "report-roi", BASE_SECTIONS | {"roi"}, min_figures=8)


def test_risk_report_renders_in_chromium(tmp_path: Path) -> None:
    """Five policies (two risk tables side by side) and the risk figure, on the strategy scenario."""
    sc = pmo_sim.load_scenario(ROOT / "scenarios" / "strategy.yaml")
    res = pmo_sim.run_experiment(sc, replications=6, seed=0, jobs=1, out=tmp_path / "run")
    page = write_report(res, tmp_path / "run" / "report.html")
    check_page(page, "report-strategy", BASE_SECTIONS | {"risks"}, min_figures=8)
