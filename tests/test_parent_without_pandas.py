"""A run's parent process moves chunks into Parquet files and summarises them without pandas.

pyarrow imports pandas (about 40 MB) the first time it converts a Python or numpy object, so
the parent builds Arrow arrays from buffers (``pmo_sim.experiment.arrays``), writes
``summary.csv`` with numpy (``pmo_sim.intervals``, ``results.csv_text``) and reads its
precision target's column the same way. These tests hold the conversions to what pyarrow and
pandas themselves give, and check in a fresh process that a whole run never imports pandas.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pmo_sim.experiment import arrays
from pmo_sim.experiment.columns import Text, packed
from pmo_sim.experiment.results import load_results
from pmo_sim.experiment.summary_file import csv_text
from pmo_sim.experiment.tablefile import to_arrow
from pmo_sim.intervals import SUMMARY_COLUMNS
from pmo_sim.schema import STORED_TABLES

ROOT = Path(__file__).resolve().parents[1]

any_float = st.floats(allow_nan=True, allow_infinity=True)
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)  # no lone surrogates


@given(st.lists(st.one_of(st.none(), any_float), max_size=40))
def test_float_column_is_what_pyarrow_builds(values: list[float | None]) -> None:
    got = arrays.to_arrow_array(np.asarray(values, dtype=float), "float")
    want = pa.array(np.asarray(values, dtype=float), type=pa.float64())
    assert got.equals(want) or np.array_equal(got.to_numpy(), want.to_numpy(), equal_nan=True)
    assert got.null_count == 0  # missing times are NaN, never nulls (SPEC 7.2)


@given(st.lists(st.integers(-2**63, 2**63 - 1), max_size=40), st.lists(st.booleans(), max_size=70),
       st.lists(text, max_size=30))
def test_int_bool_and_text_columns_are_what_pyarrow_builds(ints: list[int], flags: list[bool],
                                                           words: list[str]) -> None:
    assert arrays.to_arrow_array(np.asarray(ints, dtype=np.int64), "int").equals(
        pa.array(ints, type=pa.int64()))
    assert arrays.to_arrow_array(np.asarray(flags, dtype=bool), "bool").equals(
        pa.array(flags, type=pa.bool_()))
    built = arrays.to_arrow_array(words, "string")
    built.validate(full=True)
    assert built.equals(pa.array(words, type=pa.string()))
    # as a worker sends it: Arrow's layout, built by numpy; a missing value is ""
    sent = Text.of([*words, None])
    assert len(sent) == len(words) + 1 and sent.strings() == [*words, ""]
    wrapped = arrays.to_arrow_array(sent, "string")
    wrapped.validate(full=True)
    assert wrapped.equals(pa.array([*words, ""], type=pa.string()))


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), min_size=1, max_size=30),
       st.integers(0, 5), st.integers(0, 5))
def test_to_float_reads_slices_nulls_and_other_types(values: list[float | None], cut: int,
                                                     keep: int) -> None:
    """Offsets (a sliced array), several chunks, nulls -> NaN, ints and booleans as floats."""
    arr = pa.array(values, type=pa.float64())
    part = arr.slice(min(cut, len(values)), keep)
    chunked = pa.chunked_array([part, arr])
    want = np.concatenate([part.to_numpy(zero_copy_only=False), arr.to_numpy(zero_copy_only=False)])
    np.testing.assert_array_equal(arrays.to_float(chunked), want)
    ints = pa.array([3, None, -1], type=pa.int64()).slice(1)
    np.testing.assert_array_equal(arrays.to_float(ints), [np.nan, -1.0])
    flags = pa.array([True, False, None, True]).slice(1)
    np.testing.assert_array_equal(arrays.to_float(flags), [0.0, np.nan, 1.0])


@given(st.lists(st.sampled_from(["b", "a", "é,\"x\"", ""]), max_size=40))
def test_codes_are_first_appearance_order(words: list[str]) -> None:
    names, codes = arrays.codes(pa.chunked_array(
        [pa.array(words[:3], type=pa.string()), pa.array(words[3:], type=pa.string())]))
    want_codes, want_names = pd.factorize(pd.Series(words, dtype=object))
    assert names == list(want_names)
    np.testing.assert_array_equal(codes, want_codes)
    assert [names[c] for c in codes] == words


def test_a_chunk_travels_packed_and_gives_the_same_table() -> None:
    """What a worker sends (numpy columns) makes the same Arrow table as its plain lists."""
    table = STORED_TABLES["projects"]
    n = 3
    kinds: dict[str, list[object]] = {"float": [1.5, None, float("inf")], "int": [0, 7, -2],
                                      "bool": [True, False, True], "string": ["p", None, "é"]}
    rows = {col.name: kinds[col.dtype][:n] for col in table.all_columns}
    got, want = to_arrow("projects", packed("projects", rows)), to_arrow("projects", rows)
    assert got.schema.equals(want.schema)
    assert repr(got.to_pydict()) == repr(want.to_pydict())  # repr: NaN == NaN
    assert got.column("project").to_pylist() == ["p", "", "é"]
    once = packed("projects", rows)
    assert all(packed("projects", once)[c] is once[c] for c in ("project", "policy"))  # as it is


summary_like = st.fixed_dictionaries({
    "policy": st.lists(text, min_size=3, max_size=3),
    "mean": st.lists(any_float, min_size=3, max_size=3),
    "sd": st.lists(st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e16, 1e15 + 0.5, 123456.7890123,
                                    float("nan")]), min_size=3, max_size=3),
    "n": st.lists(st.integers(0, 10**9), min_size=3, max_size=3),
})


@given(summary_like)
# Found at full size: numpy's string dtype dropped a trailing NUL that pandas writes.
@example({"policy": ["", "", "\x00"], "mean": [0.0] * 3, "sd": [0.0] * 3, "n": [0] * 3})
@example({"policy": ["a\x00", "\x00\x00", "b"], "mean": [1.5] * 3, "sd": [float("nan")] * 3, "n": [2] * 3})
def test_csv_text_is_byte_for_byte_what_pandas_writes(data: dict[str, list[object]]) -> None:
    columns = {"policy": np.array(data["policy"], dtype=object),
               "mean": np.array(data["mean"], dtype=float), "sd": np.array(data["sd"], dtype=float),
               "n": np.array(data["n"], dtype=np.int64)}
    names = ["policy", "mean", "sd", "n"]
    assert csv_text(columns, names) == pd.DataFrame(columns).to_csv(index=False)


def test_a_whole_run_never_imports_pandas_in_the_parent(tmp_path: Path) -> None:
    """A 2-worker run with a precision target: chunks stored, tables consolidated, the
    precision decided and summary.csv written, and neither pandas, scipy nor the engine
    imported (the workers simulate; the t quantiles are pmo-sim's own); summary.csv is then
    exactly ``Results.summary()``'s CSV."""
    out = tmp_path / "run"
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        from pmo_sim.experiment import run_experiment
        from pmo_sim.scenario.loader import load_scenario

        if __name__ == "__main__":  # the workers' fork server re-imports this file
            sc = load_scenario({str(ROOT / "scenarios" / "baseline.yaml")!r})
            res = run_experiment(sc, replications=12, seed=5, jobs=2, out={str(out)!r},
                                 precision=0.001, metric="npv", max_replications=30)
            print(json.dumps({{"pandas": "pandas" in sys.modules,
                              "scipy": "scipy" in sys.modules,
                              "engine": sorted(m for m in sys.modules
                                               if m.split(".")[:2] == ["pmo_sim", "engine"]
                                               or m == "simpy"),
                              "n": res.manifest["replications"]}}))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # precision not met: grew to 30; the engine and SimPy only ever imported by the workers
    assert seen == {"pandas": False, "scipy": False, "engine": [], "n": 30}
    res = load_results(out)
    assert (out / "summary.csv").read_text() == res.summary().to_csv(index=False)
    assert list(res.summary().columns) == list(SUMMARY_COLUMNS)
    assert math.isclose(res.summary()["n"].max(), 30)


@pytest.mark.parametrize("paired", [False, True])
def test_precision_widths_match_a_pivot(paired: bool) -> None:
    """The parent's precision check (numpy, by replication) gives exactly the widths of the
    pandas pivot it replaced, on chunks stored out of order."""
    from pmo_sim.experiment.backends import run_chunk
    from pmo_sim.experiment.runner import precision_widths
    from pmo_sim.experiment.store import ChunkStore
    from pmo_sim.experiment.work import ChunkTask, tables_for
    from pmo_sim.intervals import relative_half_width
    from pmo_sim.scenario.loader import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    policies = sc.policy_names
    store = ChunkStore()
    for start, stop in [(4, 9), (0, 4)]:
        chunk = run_chunk(ChunkTask(sc, 2, start, stop, tuple(policies), None, None))
        store.add_chunk(start, stop, {t: to_arrow(t, chunk.tables[t]) for t in tables_for(sc)})
    frame = store.table("replications", policies).to_pandas()
    wide = frame.pivot(index="replication", columns="policy", values="npv")
    wide = wide.reindex(columns=policies).sort_index()
    if paired:
        want = [relative_half_width((wide[p] - wide[policies[0]]).to_numpy()) for p in policies[1:]]
    else:
        want = [relative_half_width(wide[p].to_numpy()) for p in policies]
    assert len(want) == len(policies) - (1 if paired else 0) > 0
    assert precision_widths(store, policies, "npv", paired) == want


def test_summary_csv_of_rows_in_any_order_is_summary_of_the_same_table(tmp_path: Path) -> None:
    """summary.csv is read from a file pmo-sim wrote sorted by policy; rows in another order
    (policies interleaved) are grouped first, in file order within a policy, as
    ``analysis.stats.summary`` groups a DataFrame: the same rows, the same text."""
    import shutil

    from pmo_sim.analysis.stats import summary
    from pmo_sim.experiment.runner import run_experiment
    from pmo_sim.experiment.store import ResultsFolder
    from pmo_sim.experiment.summary_file import summary_csv
    from pmo_sim.experiment.tablefile import parquet_bytes
    from pmo_sim.scenario.loader import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    run_experiment(sc, replications=7, seed=4, jobs=1, out=tmp_path / "run")
    sorted_text = (tmp_path / "run" / "summary.csv").read_text()
    shutil.copytree(tmp_path / "run", tmp_path / "shuffled")
    table = pa.Table.from_pandas(pd.read_parquet(tmp_path / "run" / "replications.parquet"),
                                 preserve_index=False)
    rows = np.random.default_rng(1).permutation(table.num_rows)
    shuffled = table.take(pa.array(rows))
    (tmp_path / "shuffled" / "replications.parquet").write_bytes(parquet_bytes(shuffled, "replications"))
    text = summary_csv(ResultsFolder.open(tmp_path / "shuffled"))
    assert text == summary(shuffled.to_pandas()).to_csv(index=False)
    assert len(text.splitlines()) == len(sorted_text.splitlines()) > len(sc.policy_names)


def _command_modules(tmp_path: Path, words: list[str]
                     ) -> tuple[subprocess.CompletedProcess[str], dict[str, bool]]:
    """``pmo-sim run`` of the baseline with ``words`` in a fresh process: its output and which
    of pandas, scipy and the engine its own process imported by exit."""
    script = tmp_path / "command.py"
    script.write_text(textwrap.dedent(f"""
        import atexit, json, sys

        def seen():  # at exit (the command line's quick exit runs atexit handlers)
            print(json.dumps({{m: m in sys.modules for m in ("pandas", "scipy", "pmo_sim.engine")}}),
                  file=sys.stderr)

        if __name__ == "__main__":  # the workers' fork server re-imports this file
            atexit.register(seen)
            sys.argv = ["pmo-sim", "run", {str(ROOT / "scenarios" / "baseline.yaml")!r}, "-n", "6",
                        "-j", "2", "--seed", "1", *{words!r}]
            from pmo_sim.__main__ import main
            main()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("extra", [[], ["--precision", "0.5", "--max-replications", "12"]],
                         ids=["plain", "precision"])
def test_run_format_csv_never_imports_pandas(tmp_path: Path, extra: list[str]) -> None:
    """``pmo-sim run --format csv`` prints no verdict: with workers, its process (the command
    line's own) never imports pandas, scipy or the engine, and prints summary.csv; nor with a
    precision target (its t quantiles are pmo-sim's own, its words name the KPI from the
    schema)."""
    out = tmp_path / "run"
    done, seen = _command_modules(tmp_path, ["--out", str(out), "--format", "csv", *extra])
    assert seen == {"pandas": False, "scipy": False, "pmo_sim.engine": False}
    assert done.stdout == (out / "summary.csv").read_text()


def test_run_with_its_verdict_never_imports_scipy(tmp_path: Path) -> None:
    """The verdict (paired t-tests, Kim-Nelson) needs pandas, not scipy: its p-values are
    ``intervals.t_two_sided_p``'s."""
    done, seen = _command_modules(tmp_path, ["--out", str(tmp_path / "run")])
    assert seen == {"pandas": True, "scipy": False, "pmo_sim.engine": False}
    words = " ".join(done.stdout.split())
    # the paired comparison, printed: the leader's gain with its interval, significant or not
    # once adjusted for the policies compared (then with its Bonferroni-adjusted p-value, one
    # of pmo-sim's own t tails), and the table of paired differences
    assert "Difference to baseline (paired)" in words
    assert ("NPV (95% CI" in words and "over baseline" in words) or "Bonferroni-adjusted p = 0." in words
