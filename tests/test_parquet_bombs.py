"""Hostile descriptor Parquet files: small files that decode to far more than they hold.

Each file is written here, from Arrow arrays that never hold the decoded data (dictionary
and run-length encoding do the expanding). Arrow's memory is measured in a fresh process
by its pool's peak, which tracemalloc does not see: a refusal costs under a megabyte.
"""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from descluster.errors import InputError
from descluster.files import PARQUET_MAX_EXPANSION, load_descriptor_array

SMALL = 1_000_000  # bytes of Arrow memory a refusal may cost at most
ROWS = 200_000


def zero_vectors(width, rows=ROWS, value_type=pa.float64()):
    """A fixed-size-list column of ``rows`` zero vectors, built without ``rows * width`` values."""
    values = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows * width, dtype=np.int8)),
                                            pa.array([0], type=value_type))
    return pa.FixedSizeListArray.from_arrays(values.dictionary_decode(), width)


def arrow_peak_of(call, path):
    """Run ``call(path)`` in a fresh process: (error message or None, Arrow pool peak bytes)."""
    code = f"""
import json, pyarrow as pa
from descluster.errors import InputError
from descluster.files import {call}
try:
    {call}({str(path)!r}); error = None
except InputError as exc:
    error = str(exc)
print(json.dumps([error, pa.default_memory_pool().max_memory()]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_vectors_that_decode_to_far_more_than_the_file_are_refused_unread(tmp_path):
    path = tmp_path / "bomb.parquet"
    # 200,000 x 64 float64 zeros: 102 MB decoded, a few kilobytes on disk
    pq.write_table(pa.table({"vector": zero_vectors(64)}), path, compression="zstd")
    assert path.stat().st_size * PARQUET_MAX_EXPANSION < ROWS * 64 * 8
    error, peak = arrow_peak_of("load_descriptor_array", path)
    assert error.startswith(f"{path}: its descriptors would decode to 97.7 MiB from ")
    assert "refused as a decompression bomb. If the data is real, save it as .npy" in error
    assert peak < SMALL


def test_numeric_columns_count_as_much_as_a_list(tmp_path):
    path = tmp_path / "bomb.parquet"
    zeros = pa.array(np.zeros(ROWS, dtype=np.float32))
    pq.write_table(pa.table({f"d{i}": zeros for i in range(32)}), path, compression="zstd")
    with pytest.raises(InputError, match=r"bomb\.parquet: its descriptors would decode to 24\.4 MiB"):
        load_descriptor_array(path)


def test_a_paths_column_of_one_long_string_repeated_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.parquet"
    # one 100 kB path, 10,000 times: 1 GB of strings once decoded
    paths = pa.DictionaryArray.from_arrays(pa.array(np.zeros(10_000, dtype=np.int32)),
                                           pa.array(["x" * 100_000]))
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(20_000, dtype=np.float32)), 2)
    pq.write_table(pa.table({"paths": paths, "vector": vectors}), path, compression="zstd")
    error, peak = arrow_peak_of("load_descriptor_paths", path)
    assert error.startswith(f"{path}: its 'paths' column would decode to 953.7 MiB from ")
    assert peak < SMALL


def test_lists_of_strings_are_refused_before_reading(tmp_path):
    path = tmp_path / "strings.parquet"
    values = pa.array(["a" * 1000] * 8)
    pq.write_table(pa.table({"vector": pa.FixedSizeListArray.from_arrays(values, 2)}), path)
    with pytest.raises(InputError, match=r"strings\.parquet: column 'vector' holds lists of string, "
                                         r"expected numbers"):
        load_descriptor_array(path)


def test_real_descriptors_as_compressible_as_they_come_still_load(tmp_path):
    # SURF-like histograms: small counts, 87 % zeros, the most compressible descriptors measured
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.15, size=(2000, 800)).astype(np.float64)
    path = tmp_path / "surf.parquet"
    pq.write_table(pa.table({"vector": pa.FixedSizeListArray.from_arrays(pa.array(counts.ravel()), 800)}),
                   path, compression="gzip")
    assert counts.nbytes / path.stat().st_size > 10  # a real compression ratio, well within the limit
    np.testing.assert_array_equal(load_descriptor_array(path), counts)
