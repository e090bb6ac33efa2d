"""A record table's columns in the form a chunk travels in, typed as the results schema says.

The workers pack a chunk's columns (:func:`packed`) before sending it to the parent, and the
parent packs any columns it turns into Arrow (``store.to_arrow``), so the typing rules (what
``None`` becomes, which dtype a kind of column has) are written once. numpy only: the workers
never import pyarrow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pmo_sim.schema import STORED_TABLES

#: A table's columns as :func:`packed` gives them: numpy arrays, lists of text.
Packed = dict[str, Any]


def packed(table: str, columns: Mapping[str, Any]) -> Packed:
    """One table's columns (lists, or columns already packed) in the compact form a chunk
    travels in, typed as the schema says.

    Numbers become numpy arrays (float: ``None`` -> NaN, "times not reached are NaN"; int;
    bool), so a chunk crosses to the parent as one buffer per column instead of a Python
    object per value: unpickling ~4 MB of floats per chunk was what made the parent's memory
    creep in a long run (freed objects leave its small-object arenas fragmented). Text stays a
    list of ``str`` (``None`` -> ""); pickle sends a string repeated down a column once.
    """
    out: Packed = {}
    for col in STORED_TABLES[table].all_columns:
        values = columns[col.name]
        if col.dtype == "float":
            out[col.name] = np.asarray(values, dtype=np.float64)
        elif col.dtype == "int":
            out[col.name] = np.asarray(values, dtype=np.int64)
        elif col.dtype == "bool":
            out[col.name] = np.asarray(values, dtype=bool)
        else:
            out[col.name] = ["" if v is None else str(v) for v in values]
    return out
