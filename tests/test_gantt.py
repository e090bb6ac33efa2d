"""The Gantt chart of a task log: rows per person, colours with a legend, leavers marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.collections import PolyCollection

from pmo_sim.analysis.plots import MAX_PROJECT_COLOURS, gantt, leavers


def log(projects: list[str]) -> pd.DataFrame:
    rows = []
    for i, project in enumerate(projects):
        crew = "dev-1" if i % 2 else "dev-2"
        rows.append({"project": project, "task": "build", "pool": "dev", "ready": i, "start": i,
                     "finish": i + 1.0, "effort": 1.0, "crew": crew, "people": 1})
    rows.append({"project": projects[0], "task": "test", "pool": "dev", "ready": 50.0,
                 "start": 50.0, "finish": 55.0, "effort": 5.0, "crew": "dev-2.1", "people": 1})
    return pd.DataFrame(rows)


def test_leavers_are_people_with_a_later_occupant_of_their_slot() -> None:
    people = [("dev", "dev-1"), ("dev", "dev-2"), ("dev", "dev-2.1"), ("dev", "dev-2.2"),
              ("qa", "qa-1")]
    assert leavers(people) == {"dev-2", "dev-2.1"}


def test_few_projects_are_coloured_by_project_with_a_legend() -> None:
    ax = gantt(log(["CRM", "ERP", "Web"]))
    legend = ax.get_legend()
    assert legend is not None and legend.get_title().get_text() == "project"
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["CRM", "ERP", "Web", "left (replaced)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dev-1", "dev-2 (left)", "dev-2.1"]


def test_many_projects_are_coloured_by_template() -> None:
    names = [f"feature-{i}" for i in range(1, 15)] + [f"fix-{i}" for i in range(1, 5)] + ["ERP"]
    assert len(names) > MAX_PROJECT_COLOURS
    projects = pd.DataFrame({"project": names, "template": ["feature"] * 14 + ["fix"] * 4 + [""]})
    ax = gantt(log(names), projects=projects)
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "template"
    assert [t.get_text() for t in legend.get_texts()][:3] == ["feature", "fix", "ERP"]
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len({tuple(f) for b in bars for f in b.get_facecolor()}) == 3   # one colour per template


def test_every_crew_member_gets_the_tasks_bar_on_their_own_row() -> None:
    tasks = log(["CRM", "ERP", "Web"])
    tasks.loc[1, "crew"] = "dev-1,dev-2"            # a crew of two: the bar on both rows
    tasks.loc[2, "finish"] = float("nan")             # still running at the horizon: not drawn
    ax = gantt(tasks)
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    drawn = [(float(p.vertices[0][0]), float(p.vertices[2][0]), float(p.vertices[0][1]))
             for b in bars for p in b.get_paths()]
    assert drawn == [(0.0, 1.0, 0.6), (1.0, 2.0, -0.4), (1.0, 2.0, 0.6), (50.0, 55.0, 1.6)]   # log order
