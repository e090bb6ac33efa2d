"""Arrow arrays from numpy and back, built from their buffers, so pandas is never imported.

pyarrow imports pandas the first time it converts a Python or numpy object (``pa.array``,
``pa.scalar``, ``Array.to_numpy`` ask whether the object is a pandas one): about 40 MB, the
largest part of a run's parent process, which only moves columns from the workers into
Parquet files and summarises them. Built from buffers, an array is the same array (same
type, values and validity); these helpers serve the schema's four kinds only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from pmo_sim.experiment.columns import Text
from pmo_sim.schema import Dtype

_NUMERIC: dict[Dtype, tuple[pa.DataType, type[np.generic]]] = {
    "float": (pa.float64(), np.float64), "int": (pa.int64(), np.int64)}


def to_arrow_array(values: Any, dtype: Dtype) -> pa.Array:
    """A column of a record table (numpy array; for text, :class:`Text` or ``str`` values) as
    an Arrow array of the schema's type for ``dtype``; no nulls (missing times are NaN already)."""
    if dtype in _NUMERIC:
        kind, np_type = _NUMERIC[dtype]
        data = np.ascontiguousarray(values, dtype=np_type)
        return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])
    if dtype == "bool":
        flags = np.asarray(values, dtype=bool)
        bits = np.packbits(flags, bitorder="little")  # Arrow's bit order
        return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(bits)])
    return text_array(values)


def text_array(values: Text | Sequence[str]) -> pa.Array:
    """A string array of the given text (UTF-8, 32-bit offsets)."""
    text = values if isinstance(values, Text) else Text.of(values)
    return pa.StringArray.from_buffers(len(text), pa.py_buffer(text.offsets), pa.py_buffer(text.data))


def _plain(array: pa.Array, np_type: type[np.generic]) -> NDArray[Any]:
    """The values of a fixed-width array (its offset honoured; whatever is under a null), as
    a read-only view of its buffer, which the view keeps alive."""
    if len(array) == 0:
        return np.empty(0, dtype=np_type)
    data = array.buffers()[1]
    width = np.dtype(np_type).itemsize
    return np.frombuffer(data, dtype=np_type, count=len(array), offset=array.offset * width)


def to_float(column: pa.Array | pa.ChunkedArray) -> NDArray[np.float64]:
    """A numeric or boolean column as float64 values, nulls as NaN (read-only when it is one
    float column without nulls: a view of Arrow's buffer, not a copy). An integer beyond 2**53
    (an edited count) is read as the nearest float, not refused by Arrow's exact cast."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for chunk in chunks:
        floats = pc.cast(chunk, pa.float64(), safe=False)
        values = _plain(floats, np.float64)
        if floats.null_count:
            values = values.copy()
            valid = pc.is_valid(floats)
            bits = np.unpackbits(np.frombuffer(valid.buffers()[1], dtype=np.uint8),
                                 bitorder="little")[valid.offset:valid.offset + len(valid)]
            values[~bits.astype(bool)] = np.nan
        parts.append(values)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0)


def codes(column: pa.Array | pa.ChunkedArray) -> tuple[list[str], NDArray[np.int64]]:
    """A text column as its distinct values in order of first appearance and, per row, the
    index of its value in them."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column, null_encoding="encode")  # a null is a value too
    names = ["" if v is None else str(v) for v in encoded.dictionary.to_pylist()]
    return names, _plain(pc.cast(encoded.indices, pa.int64()), np.int64)


def equal_mask(column: pa.Array | pa.ChunkedArray, value: str) -> pa.Array | pa.ChunkedArray:
    """Rows whose text is ``value`` (a filter mask; ``pc.equal`` would convert ``value``)."""
    return pc.is_in(column, value_set=text_array([value]))
