"""A record table's columns in the form a chunk travels in, typed as the results schema says.

The workers pack a chunk's columns (:func:`packed`) before sending it to the parent, and the
parent packs any columns it turns into Arrow (``store.to_arrow``), so the typing rules (what
``None`` becomes, which dtype a kind of column has) are written once. numpy only: the workers
never import pyarrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmo_sim.schema import STORED_TABLES

#: A table's columns as :func:`packed` gives them: numpy arrays, :class:`Text`.
Packed = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Text:
    """A text column in Arrow's string layout: the UTF-8 bytes of every value one after the
    other, and where each value starts (32-bit offsets, one more than values). The parent
    wraps the two buffers as an Arrow array as they are, without a Python step per value."""

    offsets: NDArray[np.int32]
    data: bytes

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def of(cls, values: Sequence[str | None]) -> Text:
        """``values`` packed (``None`` -> "")."""
        encoded = [b"" if v is None else str(v).encode("utf-8") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        if offsets[-1] > np.iinfo(np.int32).max:
            raise ValueError(f"{offsets[-1]} bytes of text in one column: more than a string array holds")
        return cls(offsets.astype(np.int32), b"".join(encoded))

    def strings(self) -> list[str]:
        """The values, as ``str``."""
        bounds = self.offsets.tolist()
        return [self.data[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def packed(table: str, columns: Mapping[str, Any]) -> Packed:
    """One table's columns (lists, or columns already packed) in the compact form a chunk
    travels in, typed as the schema says.

    Numbers become numpy arrays (float: ``None`` -> NaN, "times not reached are NaN"; int;
    bool), so a chunk crosses to the parent as one buffer per column instead of a Python
    object per value: unpickling ~4 MB of floats per chunk was what made the parent's memory
    creep in a long run (freed objects leave its small-object arenas fragmented). Text becomes
    :class:`Text`, Arrow's layout, encoded by the worker (``None`` -> "").
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
            out[col.name] = values if isinstance(values, Text) else Text.of(values)
    return out
