"""Write ``scenarios/history/tasks.csv``: a synthetic task history whose answers are known.

Run ``python scenarios/history/make_history.py`` to regenerate the committed file; it is
seeded (a local numpy Generator), so the file comes out identical. The seed, 12, is one on
which ``pmo-sim fit`` picks every true family; on others it mistakes a family or two, where
few rows (architects) or a small spread (the ratios) make lognormal and gamma look alike.

The true distributions (SPEC 3 parameters: arithmetic mean and sd; efforts in person-days):

=========== ==================== ======================== ===========================
skill       tasks per project    actual effort            actual / estimate
=========== ==================== ======================== ===========================
analysts    4                    lognormal mean 8, sd 5   lognormal mean 1.2, sd 0.45
developers  10                   gamma mean 20, sd 10     gamma mean 1.35, sd 0.4
testers     6                    gamma mean 6, sd 3       lognormal mean 1.1, sd 0.3
architects  1, in 1 project in 4 lognormal mean 12, sd 9  lognormal mean 1.5, sd 0.5
=========== ==================== ======================== ===========================

Projects arrive as a Poisson process: exponential gaps of mean 7 working days (Monday to
Friday) from Tuesday 2024-01-02 over 520 working days, about two years; with this seed 68
projects and 1,377 tasks. Architects get few rows on purpose (``pmo-sim fit`` flags them). A
project's analysis and architecture tasks start on its arrival day, its development tasks
when the analysis is done and its tests when development is done, each task taking its
actual effort rounded up to whole working days (one person). Estimates are actual / ratio;
both are rounded to 0.01. An extra column, ``team``, shows that unknown columns are ignored.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

SEED = 12
START = np.datetime64("2024-01-02")
WORKING_DAYS = 520
MEAN_GAP = 7.0
# skill: (tasks per project, task name, (family, mean, sd) of effort, (family, mean, sd) of ratio)
SKILLS = {
    "analysts": (4, "analysis", ("lognormal", 8.0, 5.0), ("lognormal", 1.2, 0.45)),
    "architects": (1, "architecture", ("lognormal", 12.0, 9.0), ("lognormal", 1.5, 0.5)),
    "developers": (10, "build", ("gamma", 20.0, 10.0), ("gamma", 1.35, 0.4)),
    "testers": (6, "test", ("gamma", 6.0, 3.0), ("lognormal", 1.1, 0.3)),
}
ARCHITECTURE_SHARE = 1 / 4


def draw(rng: np.random.Generator, family: str, mean: float, sd: float, n: int) -> np.ndarray:
    """``n`` draws of a lognormal or gamma with this arithmetic mean and sd."""
    if family == "lognormal":
        s2 = math.log1p((sd / mean) ** 2)
        return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)
    return rng.gamma((mean / sd) ** 2, sd**2 / mean, n)


def phase(rng: np.random.Generator, project: str, skill: str, start: np.datetime64,
          n: int) -> tuple[list[list[object]], np.datetime64]:
    """``n`` tasks of one skill starting together on ``start``; rows and the phase's end."""
    count, name, effort, ratio = SKILLS[skill]
    actual = np.maximum(0.01, np.round(draw(rng, *effort, n), 2))
    estimate = np.maximum(0.01, np.round(actual / draw(rng, *ratio, n), 2))
    rows, end = [], start
    for k in range(n):
        finish = np.busday_offset(start, max(0, math.ceil(actual[k]) - 1), roll="forward")
        end = max(end, finish)
        rows.append([project, f"{name}-{k + 1}" if count > 1 else name, skill, f"{estimate[k]:.2f}",
                     f"{actual[k]:.2f}", str(start), str(finish), f"team-{rng.integers(1, 4)}"])
    return rows, end


def history(seed: int = SEED) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    days = np.cumsum(rng.exponential(MEAN_GAP, 4 * int(WORKING_DAYS / MEAN_GAP)))
    days = np.floor(days[days < WORKING_DAYS]).astype(int)
    rows: list[list[object]] = []
    for i, day in enumerate(days):
        project = f"P{i + 1:03d}"
        arrival = np.busday_offset(START, int(day), roll="forward")
        analysis, end = phase(rng, project, "analysts", arrival, SKILLS["analysts"][0])
        rows += analysis
        if rng.random() < ARCHITECTURE_SHARE:
            rows += phase(rng, project, "architects", arrival, 1)[0]
        build, end = phase(rng, project, "developers", np.busday_offset(end, 1), SKILLS["developers"][0])
        rows += build
        rows += phase(rng, project, "testers", np.busday_offset(end, 1), SKILLS["testers"][0])[0]
    return rows


def main() -> None:
    target = Path(__file__).with_name("tasks.csv")
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["project", "task", "skill", "estimate", "actual", "start", "finish", "team"])
        writer.writerows(history())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
