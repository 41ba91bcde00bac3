"""Hostile descriptor Parquet files: small files that decode to far more than they hold.

Each file is written here: by pyarrow from arrays that compress to almost nothing, and
for the files that lie, with their footer rewritten (``parquet_footer``) so that it no
longer says what the pages hold. The reader runs in a child process under a memory limit
(``descluster.parquetfile``); what a refusal costs is measured in a fresh process: its own
peak resident memory must not grow, and the reader's peak may exceed that of reading a
tiny honest file by no more than the limit's allowance, where reading these files
unchecked costs 100 MB to 1 GB.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import parquet_footer
from descluster.errors import InputError
from descluster.files import load_descriptor_array, load_descriptor_paths
from descluster.parquetfile import ALLOWANCE, MAX_EXPANSION, VALUE_BYTES

SMALL = 16 * 2 ** 20  # bytes a refusal may cost at most (resident memory is counted in pages)
ROWS = 200_000


def zero_vectors(width, rows=ROWS, value_type=pa.float64()):
    """A fixed-size-list column of ``rows`` zero vectors, built without ``rows * width`` values."""
    values = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows * width, dtype=np.int8)),
                                            pa.array([0], type=value_type))
    return pa.FixedSizeListArray.from_arrays(values.dictionary_decode(), width)


def peak_of(call, path, tiny):
    """Run ``call(tiny)`` then ``call(path)`` in a fresh process: (error message of the
    second or None, the length of its result, growth of the process's own peak resident
    memory during it, growth of its children's peak over the first call's; bytes)."""
    code = f"""
import json, resource
from descluster.errors import InputError
from descluster.files import {call}
{call}({str(tiny)!r})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
try:
    result = {call}({str(path)!r})
    error, length = None, None if result is None else len(result)
except InputError as exc:
    error, length = str(exc), None
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss - reader
print(json.dumps([error, length, grown * 1024, reader * 1024]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def bounded(call, path):
    """``call(path)``'s (error or None, result length), asserting what it cost: nothing in
    the calling process, and in the reader no more than its limit allows a file this size."""
    tiny = path.with_name("tiny.parquet")
    pq.write_table(pa.table({"paths": ["a.jpg", "b.jpg"], "d0": [0.5, 1.5]}), tiny)
    error, length, grown, reader = peak_of(call, path, tiny)
    assert grown < SMALL
    # the most any limit allows: the array (<= MAX_EXPANSION x the file) and VALUE_BYTES for
    # each of its values (>= 1 byte each), the file, and the allowance
    assert reader < (1 + VALUE_BYTES) * MAX_EXPANSION * path.stat().st_size + ALLOWANCE + SMALL
    return error, length


def assert_refused_small(call, path, message_start):
    """``call(path)`` refuses with a message starting ``message_start``, at a small cost;
    returns the message."""
    error, _ = bounded(call, path)
    assert error is not None and error.startswith(message_start), error
    return error


def test_vectors_that_decode_to_far_more_than_the_file_are_refused_unread(tmp_path):
    path = tmp_path / "bomb.parquet"
    # 200,000 x 64 float64 zeros: 102 MB decoded, a few kilobytes on disk
    pq.write_table(pa.table({"vector": zero_vectors(64)}), path, compression="zstd")
    assert path.stat().st_size * MAX_EXPANSION < ROWS * 64 * 8
    error = assert_refused_small("load_descriptor_array", path,
                                 f"{path}: its descriptors would decode to 97.7 MiB from ")
    assert "refused as a decompression bomb. If the data is real, save it as .npy" in error


def test_numeric_columns_count_as_much_as_a_list(tmp_path):
    path = tmp_path / "bomb.parquet"
    zeros = pa.array(np.zeros(ROWS, dtype=np.float32))
    pq.write_table(pa.table({f"d{i}": zeros for i in range(32)}), path, compression="zstd")
    with pytest.raises(InputError, match=r"bomb\.parquet: its descriptors would decode to 24\.4 MiB"):
        load_descriptor_array(path)


def test_a_paths_column_of_one_long_string_repeated_is_refused_small(tmp_path):
    path = tmp_path / "bomb.parquet"
    # one 100 kB path, 10,000 times: 1 GB of strings once decoded
    paths = pa.DictionaryArray.from_arrays(pa.array(np.zeros(10_000, dtype=np.int32)),
                                           pa.array(["x" * 100_000]))
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(20_000, dtype=np.float32)), 2)
    pq.write_table(pa.table({"paths": paths, "vector": vectors}), path, compression="zstd")
    assert_refused_small("load_descriptor_paths", path,
                         f"{path}: reading it needed more memory than its footer declares")


def test_lists_of_strings_are_refused_before_reading(tmp_path):
    path = tmp_path / "strings.parquet"
    values = pa.array(["a" * 1000] * 8)
    pq.write_table(pa.table({"vector": pa.FixedSizeListArray.from_arrays(values, 2)}), path)
    with pytest.raises(InputError, match=r"strings\.parquet: column 'vector' holds "
                                         r"fixed_size_list<element: string>\[2\], expected lists of "
                                         r"at least one number"):
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


def zeros_file(path, rows, **options):
    """``rows`` float64 zeros in one column ``d0``, as pyarrow writes them (honest)."""
    pq.write_table(pa.table({"d0": pa.array(np.zeros(rows))}), path, compression="zstd",
                   row_group_size=rows, **options)


def test_a_footer_whose_total_disagrees_with_its_row_groups_is_refused(tmp_path):
    path = tmp_path / "rows.parquet"
    zeros_file(path, 1000)
    # the footer says 1 row; its row group, which the reader follows, still says 1000
    parquet_footer.rewrite_footer(path, lambda m: parquet_footer.set_row_counts(m, file_rows=1))
    with pytest.raises(InputError, match=r"rows\.parquet: its footer says 1 rows but its row groups "
                                         r"hold 1000; not a readable Parquet file"):
        load_descriptor_array(path)


def test_a_page_that_decompresses_to_far_more_than_the_footer_says_is_refused_small(tmp_path):
    path = tmp_path / "page.parquet"
    pq.write_table(pa.table({"d0": [1.5]}), path, compression="zstd", use_dictionary=False)
    # its one page, 200 MB once decompressed (Arrow allocates and fills all of it to read
    # the one value the footer declares), in about 7 kB
    parquet_footer.bloat_first_page(path, 200 * 2 ** 20)
    assert path.stat().st_size < 20_000 and pq.ParquetFile(path).metadata.num_rows == 1
    assert_refused_small("load_descriptor_array", path,
                         f"{path}: reading it needed more memory than its footer declares")


def test_a_footer_declaring_a_million_row_groups_in_a_few_bytes_is_refused_small(tmp_path):
    path = tmp_path / "groups.parquet"
    zeros_file(path, 10)

    def claim(metadata):  # a million column chunks in each of a million row groups: one held
        row_groups = parquet_footer.field(metadata, 4)
        chunks = parquet_footer.field(row_groups[2][1][0], 1)
        chunks[2] = (*chunks[2], 10 ** 6)
        row_groups[2] = (*row_groups[2], 10 ** 6)
    parquet_footer.rewrite_footer(path, claim)
    assert path.stat().st_size < 1000
    assert_refused_small("load_descriptor_array", path, f"{path}: not a readable Parquet file (")


def test_a_paths_column_of_millions_of_empty_strings_is_refused_before_decoding(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"paths": pa.array([""] * 2_000_000)}), path, compression="zstd")
    assert_refused_small("load_descriptor_paths", path,
                         f"{path}: its 'paths' column would decode to 122.1 MiB from ")


def test_errors_from_a_corrupt_file_are_one_line(tmp_path):
    good = tmp_path / "good.parquet"
    zeros_file(good, 100)
    data = bytearray(good.read_bytes())
    length = int.from_bytes(data[-8:-4], "little")
    data[-8 - length + 5:-8 - length + 25] = b"\n\x1b[31m" * 4  # newlines and a terminal escape
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(data))
    for load in (load_descriptor_array, load_descriptor_paths):
        with pytest.raises(InputError) as raised:
            load(bad)
        assert "\n" not in str(raised.value) and "\x1b" not in str(raised.value)


def test_duplicate_columns_nested_lists_and_missing_values_are_refused_in_one_line(tmp_path):
    twice = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["d0", "d0"])
    pq.write_table(twice, tmp_path / "twice.parquet")
    with pytest.raises(InputError, match=r"twice\.parquet: column 'd0' appears more than once"):
        load_descriptor_array(tmp_path / "twice.parquet")
    nested = pa.FixedSizeListArray.from_arrays(
        pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(8)), 2), 2)
    pq.write_table(pa.table({"vector": nested}), tmp_path / "nested.parquet")
    with pytest.raises(InputError, match=r"nested\.parquet: column 'vector' holds .*expected lists "
                                         r"of at least one number"):
        load_descriptor_array(tmp_path / "nested.parquet")
    nulls = pa.table({"d0": pa.array([1, None, 3], type=pa.int8())})
    pq.write_table(nulls, tmp_path / "nulls.parquet")
    with pytest.raises(InputError, match=r"nulls\.parquet: it has missing values"):
        load_descriptor_array(tmp_path / "nulls.parquet")


def test_honest_files_with_small_row_groups_load(tmp_path):
    # batches span row groups; a file of many small ones must still fit the reader's limit
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20_000, 64)).astype(np.float32)
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.table({"vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 64)}),
                   path, row_group_size=3000, compression="zstd")
    np.testing.assert_array_equal(load_descriptor_array(path), vectors)


def test_the_reader_is_not_fooled_by_the_working_directory_or_inherited_limits(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"paths": ["a.jpg", "b.jpg"], "d0": [0.5, 1.5]}), path)
    shadow = tmp_path / "cwd"
    shadow.mkdir()
    (shadow / "resource.py").write_text("raise SystemExit('a resource.py of the working directory ran')\n")
    code = (f"import resource; resource.setrlimit(resource.RLIMIT_CPU, (50, 50))\n"
            f"from descluster.files import load_descriptor_array, load_descriptor_paths\n"
            f"print(load_descriptor_array({str(path)!r}).tolist(), load_descriptor_paths({str(path)!r}))")
    # -P here too: this test process must not run it; the reader it starts is the point
    done = subprocess.run([sys.executable, "-P", "-c", code], cwd=shadow, capture_output=True, text=True)
    assert done.stdout.strip() == "[[0.5], [1.5]] ['a.jpg', 'b.jpg']", done.stderr


def test_a_fifo_or_a_file_of_paths_only_is_handled(tmp_path):
    fifo = tmp_path / "d.parquet"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"d\.parquet: not a regular file"):
        load_descriptor_paths(fifo)
    only = tmp_path / "only.parquet"
    pq.write_table(pa.table({"paths": ["a.jpg", "b.jpg"]}), only)
    assert load_descriptor_array(only).shape == (2, 0)  # refused later: zero columns
    assert load_descriptor_paths(only) == ["a.jpg", "b.jpg"]
