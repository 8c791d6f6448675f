"""64-bit fingerprints of table rows, computed column-wise with numpy: rows with equal values have equal
fingerprints in any process and from any source (a worker's Arrow table, a DuckDB query's). Unequal rows
rarely share one, so a fingerprint match is a candidate to check, never a verdict."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_PRIME = 0x100000001B3  # odd, so invertible modulo 2**64
_PRIME_INVERSE = pow(_PRIME, -1, 1 << 64)
_COMBINE = np.uint64(0x9E3779B97F4A7C15)
_NULL = np.uint64(0x2545F4914F6CDD1D)
_CHUNK_BYTES = 1 << 22  # text hashed per pass: the power tables are 16 bytes a byte of it


def key_fingerprints(table: pa.Table) -> np.ndarray:
    """One uint64 per row, from all its columns' values."""
    combined = np.zeros(table.num_rows, np.uint64)
    for column in table.columns:
        values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if not pa.types.is_large_string(values.type):
            values = pc.cast(values, pa.large_string())  # dates and numbers by their text
        combined = _mix(combined * _COMBINE + _text_hashes(values))
    return combined


def _text_hashes(values: pa.LargeStringArray) -> np.ndarray:
    """A polynomial hash of each string's UTF-8 bytes (and its length), null a constant."""
    validity, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    hashes = np.empty(len(values), np.uint64)
    first = 0
    while first < len(values):
        # Rows up to _CHUNK_BYTES of text (at least one row, however long).
        last = max(first + 1, int(np.searchsorted(offsets, offsets[first] + _CHUNK_BYTES, "right")) - 1)
        last = min(last, len(values))
        base = offsets[first]
        chunk = data[base : offsets[last]]
        powers, inverses = _power_tables(len(chunk) + 1)
        prefix = np.zeros(len(chunk) + 1, np.uint64)
        np.cumsum(chunk.astype(np.uint64) * powers[: len(chunk)], out=prefix[1:])
        starts = offsets[first:last] - base
        ends = offsets[first + 1 : last + 1] - base
        # sum of byte * PRIME**(position - start): the same for the same bytes wherever they sit
        hashes[first:last] = (prefix[ends] - prefix[starts]) * inverses[starts] + (ends - starts).astype(
            np.uint64
        )
        first = last
    hashes = _mix(hashes)
    if validity is not None and values.null_count:
        hashes[values.is_null().to_numpy(zero_copy_only=False)] = _NULL
    return hashes


@functools.cache
def _power_table_of_size(size: int) -> tuple[np.ndarray, np.ndarray]:
    powers = np.full(size, _PRIME, np.uint64)
    inverses = np.full(size, _PRIME_INVERSE, np.uint64)
    powers[0] = inverses[0] = 1
    return np.cumprod(powers), np.cumprod(inverses)  # unsigned: wraps modulo 2**64


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """PRIME**i and PRIME**-i modulo 2**64 for i < size (at least), from few cached sizes."""
    return _power_table_of_size(1 << max(int(size - 1).bit_length(), 10))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
