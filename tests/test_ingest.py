"""Ingest checks: the paths file, descriptor arrays, and the Parquet they become."""

import numpy as np
import pandas as pd
import pytest

from descluster import ingest
from descluster.errors import InputError
from descluster.steps.ingest import ingest_descriptors, ingest_paths


def write_paths(tmp_path, lines, name="paths.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def test_paths_are_normalised_and_originals_kept(tmp_path):
    path = write_paths(tmp_path, ["paths", r"veriwild\1\00001\000001.jpg", "a/b.jpg"])
    table = ingest.read_paths_table(path)
    assert table["paths"].tolist() == ["veriwild/1/00001/000001.jpg", "a/b.jpg"]
    assert table["path_original"].tolist() == [r"veriwild\1\00001\000001.jpg", "a/b.jpg"]


def test_missing_paths_column(tmp_path):
    path = write_paths(tmp_path, ["path", "a.jpg"])
    with pytest.raises(InputError, match=r"paths\.csv: no column 'paths' \(found \['path'\]\)"):
        ingest.read_paths_table(path)


def test_duplicate_paths_named_by_line_even_across_separators(tmp_path):
    path = write_paths(tmp_path, ["paths", "a.jpg", r"x\b.jpg", "c.jpg", "x/b.jpg"])
    with pytest.raises(InputError, match=r"duplicate paths on line\(s\) 3, 5 "):
        ingest.read_paths_table(path)


def test_empty_path(tmp_path):
    path = write_paths(tmp_path, ["paths,other", "a.jpg,1", ",2", "c.jpg,3"])
    with pytest.raises(InputError, match=r"paths\.csv: empty path on line\(s\) 3$"):
        ingest.read_paths_table(path)


def test_not_utf8(tmp_path):
    path = write_paths(tmp_path, ["paths", "a.jpg", "caf\u00e9.jpg"], encoding="latin-1")
    with pytest.raises(InputError, match=r"paths\.csv: not UTF-8 text \(first bad byte on line 3\)"):
        ingest.read_paths_table(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: images\.paths file not found"):
        ingest.read_paths_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: file is empty"):
        ingest.read_paths_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("paths\n")
    with pytest.raises(InputError, match=r"header\.csv: no rows"):
        ingest.read_paths_table(tmp_path / "header.csv")


@pytest.mark.parametrize("array, message", [
    (np.zeros(5), r"array has 1 dimension\(s\) \(5,\); expected a 2-D"),
    (np.zeros((5, 2, 2)), r"array has 3 dimension\(s\) \(5, 2, 2\)"),
    (np.array([["a", "b"]] * 5), r"array dtype is <U1; expected numbers"),
    (np.array([[{}, {}]] * 5, dtype=object), r"array dtype is object; expected numbers"),
    (np.arange(10).reshape(5, 2).astype("m8[ns]"), r"array dtype is timedelta64\[ns\]; expected numbers"),
    (np.arange(10).reshape(5, 2).astype("M8[s]"), r"array dtype is datetime64\[s\]; expected numbers"),
    (np.ones((5, 2), dtype=np.complex64), r"array dtype is complex64; expected numbers \(float, "
                                          r"signed or unsigned integer, or bool\)"),
    (np.zeros((0, 3)), r"array has zero rows"),
    (np.zeros((5, 0)), r"array has zero columns"),
    (np.zeros((4, 3)), r"4 rows, but the paths file lists 5 images"),
])
def test_bad_arrays(array, message):
    with pytest.raises(InputError, match=r"^desc\.pickle: " + message):
        ingest.check_descriptor_array(array, "desc.pickle", n_paths=5)


def test_non_finite_rows_are_listed():
    array = np.zeros((10, 3))
    array[2, 1] = np.nan
    array[7, 0] = np.inf
    array[8, 2] = 1e300  # beyond float32
    with pytest.raises(InputError, match=(r"NaN, inf or values beyond float32 range in "
                                          r"row\(s\) 2, 7, 8 \(0-based\)")):
        ingest.check_descriptor_array(array, "d.pickle", n_paths=10, chunk_rows=4)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.uint64, np.bool_, np.float16])
def test_integer_bool_and_float_arrays_pass(dtype):
    ingest.check_descriptor_array(np.eye(3, 2, dtype=dtype), "d", n_paths=3)


def test_ingest_round_trip_casts_to_float32(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.normal(size=(70, 6))  # float64 on disk, as some real files are
    np.save(tmp_path / "d.npy", array)
    write_paths(tmp_path, ["paths"] + [rf"p\{i}.jpg" for i in range(70)])
    ingest_paths(paths_csv=tmp_path / "paths.csv", out_parquet=tmp_path / "images.parquet")
    ingest_descriptors(descriptor_path=tmp_path / "d.npy", images_parquet=tmp_path / "images.parquet",
                       out_npy=tmp_path / "ingested.npy")
    assert ingest.descriptor_shape(tmp_path / "ingested.npy") == (70, 6)
    batches = list(ingest.iter_descriptor_batches(tmp_path / "ingested.npy", batch_rows=32))
    assert [len(b) for b in batches] == [32, 32, 6]
    assert all(b.dtype == np.float32 for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), array.astype(np.float32))
    # a plain .npy file, as documented (docs/outputs.md)
    np.testing.assert_array_equal(np.load(tmp_path / "ingested.npy"), array.astype(np.float32))


def test_ingest_stops_before_writing(tmp_path):
    np.save(tmp_path / "d.npy", np.ones((3, 2)))
    write_paths(tmp_path, ["paths", "a", "b"])
    ingest_paths(paths_csv=tmp_path / "paths.csv", out_parquet=tmp_path / "images.parquet")
    with pytest.raises(InputError, match=r"d\.npy: 3 rows, but the paths file lists 2 images"):
        ingest_descriptors(descriptor_path=tmp_path / "d.npy", images_parquet=tmp_path / "images.parquet",
                           out_npy=tmp_path / "out" / "d.npy")
    assert not (tmp_path / "out" / "d.npy").exists()


def test_large_array_is_never_held_twice(tmp_path):
    """Loading holds the array once; checking and writing add only chunks (numpy's share,
    which tracemalloc sees; Arrow's buffers are per row group too)."""
    import pickle
    import tracemalloc

    array = np.ones((20000, 250), dtype=np.float32)  # 20 MB
    array[:, 0] = np.arange(20000)  # rows that differ
    (tmp_path / "big.pickle").write_bytes(pickle.dumps(array, protocol=4))
    size = array.nbytes
    del array
    tracemalloc.start()
    try:
        from descluster.files import load_pickled_array

        loaded = load_pickled_array(tmp_path / "big.pickle")
        assert tracemalloc.get_traced_memory()[1] < 1.1 * size
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        ingest.check_descriptor_array(loaded, "big.pickle", 20000, chunk_rows=2000)
        ingest.write_descriptor_npy(loaded, tmp_path / "big.npy", chunk_rows=2000)
        assert tracemalloc.get_traced_memory()[1] - baseline < 0.35 * size
    finally:
        tracemalloc.stop()


def test_timedelta_with_nat_is_not_taken_for_integers():
    array = np.arange(10, dtype="m8[ns]").reshape(5, 2)
    array[3, 0] = np.timedelta64("NaT")  # -9.2e18 when read as an integer
    with pytest.raises(InputError, match=r"^t\.npy: array dtype is timedelta64\[ns\]"):
        ingest.check_descriptor_array(array, "t.npy", n_paths=5)


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.uint64])
def test_values_whose_squares_overflow_float32_are_refused_by_row(dtype):
    array = np.arange(40, dtype=dtype).reshape(10, 4)
    limit = ingest.value_limit(4)
    assert 2e18 < limit < 3e18
    array[3, 1] = 5e18
    if dtype != np.uint64:
        array[6, 0] = -9e18
    rows = "3" if dtype == np.uint64 else "3, 6"
    with pytest.raises(InputError, match=rf"^big: values beyond \+-2\.31e\+18 in "
                                         rf"row\(s\) {rows} \(0-based\): "
                                         r"with 4 columns their squared distances overflow float32"):
        ingest.check_descriptor_array(array, "big", n_paths=10, chunk_rows=4)


def test_values_just_below_the_limit_pass():
    array = np.eye(3, 2) * ingest.value_limit(2) * 0.99
    ingest.check_descriptor_array(array, "d", n_paths=3)


def test_nan_rows_are_reported_before_large_ones():
    array = np.zeros((4, 2))
    array[1, 0] = 1e18 * 8
    array[2, 1] = np.nan
    with pytest.raises(InputError, match=r"NaN, inf or values beyond float32 range in row\(s\) 2 "):
        ingest.check_descriptor_array(array, "d", n_paths=4)


@pytest.mark.parametrize("array", [np.zeros((6, 3)), np.full((6, 3), 2.5, dtype=np.float32),
                                   np.ones((6, 3), dtype=bool)])
def test_all_rows_the_same_vector(array):
    with pytest.raises(InputError, match=r"^z\.npy: all 6 rows are the same vector \(e\.g\. all zeros\)"):
        ingest.check_descriptor_array(array, "z.npy", n_paths=6, chunk_rows=4)


def test_one_differing_row_in_the_last_chunk_is_enough():
    array = np.zeros((9, 3), dtype=np.float32)
    array[8, 2] = 1e-3
    ingest.check_descriptor_array(array, "z.npy", n_paths=9, chunk_rows=4)


@pytest.mark.parametrize("spelling", ["a\\b.jpg", "a\\\\b.jpg", ".\\a\\b.jpg", "./a/b.jpg",
                                      "a//b.jpg", "a/./b.jpg", "a/b.jpg"])
def test_spellings_of_one_file_are_one_path(spelling):
    assert ingest.normalise_path(spelling) == "a/b.jpg"


def test_parent_and_absolute_parts_are_kept():
    assert ingest.normalise_path("..\\x.jpg") == "../x.jpg"
    assert ingest.normalise_path("\\\\server\\x.jpg") == "/server/x.jpg"
    assert ingest.normalise_path("/etc/passwd") == "/etc/passwd"


# every kind of row the column-wide search must tell apart: normal, needing normalisation
# at the start, middle or end, empty after it, hidden files and parent parts left alone
TRICKY_PATHS = ["a/b.jpg", "a\\b.jpg", ".\\a.jpg", "./b.jpg", "c//d.jpg", "c/./d.jpg", "e/",
                "e/.", ".hidden/x.jpg", "f/.hidden", "../g.jpg", "/abs/h.jpg", "\\\\srv\\i.jpg",
                "..", "a.", "j\u00e9.jpg"]


def test_the_column_is_normalised_as_each_path_alone():
    for start in range(len(TRICKY_PATHS)):  # each path first, inside and last in the column
        paths = TRICKY_PATHS[start:] + TRICKY_PATHS[:start]
        checked = ingest.checked_paths(pd.Series(paths), "p.csv")
        assert checked.tolist() == [ingest.normalise_path(path) for path in paths]


@pytest.mark.parametrize("bad, message", [
    ("", r"empty path on line\(s\) 4, 7$"),
    ("./", r"empty path on line\(s\) 4, 7$"),
    (" a.jpg", r"the path on line\(s\) 4, 7 starts or ends with a space"),
    ("a.jpg\u3000", r"the path on line\(s\) 4, 7 starts or ends with a space"),
    ("a\tb.jpg", r"the path on line\(s\) 4, 7 holds a control character"),
])
def test_the_column_wide_search_names_every_bad_row(bad, message):
    paths = ["x/1.jpg", "x\\2.jpg", bad, "x/3.jpg", "x/4.jpg", bad, "x/5.jpg"]
    with pytest.raises(InputError, match=message):
        ingest.checked_paths(pd.Series(paths), "p.csv")


def test_two_spellings_of_one_file_are_duplicates(tmp_path):
    path = write_paths(tmp_path, ["paths", "c.jpg", r"a\b.jpg", r"a\\b.jpg", r".\a\b.jpg", "d.jpg"])
    with pytest.raises(InputError, match=r"duplicate paths on line\(s\) 3, 4, 5 \(e\.g\. 'a\\\\b\.jpg'\)"):
        ingest.read_paths_table(path)
    path = write_paths(tmp_path, ["paths", "a.jpg", ".", "c.jpg"])
    with pytest.raises(InputError, match=r"empty path on line\(s\) 3$"):
        ingest.read_paths_table(path)


def test_a_long_duplicate_is_not_repeated_in_full(tmp_path):
    long_path = "x" * 100_000 + ".jpg"
    path = write_paths(tmp_path, ["paths", long_path, long_path])
    with pytest.raises(InputError) as caught:
        ingest.read_paths_table(path)
    assert len(str(caught.value)) < 400


PATHS = pd.Series(["a/1.jpg", "a/2.jpg", "b/3.jpg", "b/4.jpg"])


def test_match_rows_same_order_or_none():
    assert ingest.match_rows(None, PATHS, "d.parquet") is None
    assert ingest.match_rows(["a\\1.jpg", "a/2.jpg", "./b/3.jpg", "b/4.jpg"], PATHS, "d.parquet") is None


def test_match_rows_reorders():
    order = ingest.match_rows(["b/4.jpg", "a/1.jpg", "b\\3.jpg", "a/2.jpg"], PATHS, "d.parquet")
    assert order.tolist() == [1, 3, 2, 0]


@pytest.mark.parametrize("file_paths, message", [
    (["a/1.jpg", "a/2.jpg", "b/3.jpg", "c/9.jpg"],
     r"^d\.parquet: its 'paths' column does not match images\.paths in row\(s\) 3 \(0-based; row 3 "
     r"is 'c/9\.jpg' here but 'b/4\.jpg' in images\.paths\), and not by order alone: 1 image\(s\) "
     r"of images\.paths are not in it, e\.g\. 'b/4\.jpg'$"),
    (["b/4.jpg", "a/2.jpg", "a/2.jpg", "a/1.jpg"],
     r"row\(s\) 0, 2, 3 \(0-based; row 0 is 'b/4\.jpg' here but 'a/1\.jpg'"
     r".*it lists 'a/2\.jpg' more than once"),
    (["a/1.jpg", None, "b/3.jpg", "b/4.jpg"],
     r"^d\.parquet \(its 'paths' column\): empty path on row\(s\) 1 \(0-based\)$"),
    (["a/1.jpg", "a/2.jpg ", "b/3.jpg", "b/4.jpg"],
     r"^d\.parquet \(its 'paths' column\): the path on row\(s\) 1 \(0-based\) starts or ends "
     r"with a space"),
])
def test_match_rows_names_the_rows_that_differ(file_paths, message):
    with pytest.raises(InputError, match=message):
        ingest.match_rows(file_paths, PATHS, "d.parquet")


def ingested_paths(tmp_path, paths):
    write_paths(tmp_path, ["paths"] + paths)
    ingest_paths(paths_csv=tmp_path / "paths.csv", out_parquet=tmp_path / "images.parquet")


def test_ingest_reorders_a_parquet_file_to_the_paths_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ingested_paths(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    vectors = np.array([[3.0, 3], [1, 1], [2, 2]], dtype=np.float32)  # c, a, b
    table = pa.table({"paths": ["c.jpg", "a.jpg", ".\\b.jpg"],
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 2)})
    pq.write_table(table, tmp_path / "d.parquet")
    ingest_descriptors(descriptor_path=tmp_path / "d.parquet", images_parquet=tmp_path / "images.parquet",
                       out_npy=tmp_path / "out.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), [[1, 1], [2, 2], [3, 3]])


def test_ingest_refuses_a_parquet_file_of_other_images(tmp_path):
    ingested_paths(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    pd.DataFrame({"paths": ["a.jpg", "b.jpg", "x.jpg"], "d0": [1.0, 2, 3]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(InputError, match=r"d\.parquet: its 'paths' column does not match images\.paths "
                                         r"in row\(s\) 2 "):
        ingest_descriptors(descriptor_path=tmp_path / "d.parquet", images_parquet=tmp_path / "images.parquet",
                           out_npy=tmp_path / "out.npy")
    assert not (tmp_path / "out.npy").exists()


# --- one path, one image; one line, one row ---------------------------------------------

@pytest.mark.parametrize("path, problem", [
    (" a.jpg", "starts or ends with a space"), ("a.jpg ", "starts or ends with a space"),
    ("a.jpg\u00a0", "starts or ends with a space"), ("\u3000a.jpg", "starts or ends with a space"),
    ("a\tb.jpg", "holds a control character"), ("a\u2028b.jpg", "holds a control character"),
    ("a\x85b.jpg", "holds a control character"), ("a\u202eb.jpg", "direction override"),
])
def test_paths_a_label_file_could_not_name_exactly_are_refused(tmp_path, path, problem):
    csv_path = tmp_path / "paths.csv"
    csv_path.write_text(f'paths\nok.jpg\n"{path}"\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"paths\.csv: the path on line\(s\) 3 .*{problem}"):
        ingest.read_paths_table(csv_path)


def test_paths_differing_only_by_inner_spaces_are_two_images(tmp_path):
    path = write_paths(tmp_path, ["paths", "a b.jpg", "a  b.jpg"])
    assert ingest.read_paths_table(path)["paths"].tolist() == ["a b.jpg", "a  b.jpg"]


@pytest.mark.parametrize("data, rows", [
    (b"paths\na.jpg\nb.jpg\n", 2),
    (b"paths\na.jpg\nb.jpg", 2),  # no final line end
    (b"paths\r\na.jpg\r\nb.jpg\r\n", 2),
    (b"\xef\xbb\xbfpaths,x\n\"a,1.jpg\",1\n\"b \"\"2\"\".jpg\",\n", 2),  # BOM, quotes, commas
    (b"x,paths\n1,a.jpg\n2,\"b.jpg\"\n3,c.jpg\n", 3),
])
def test_the_row_count_before_the_run_is_the_one_ingest_reads(tmp_path, data, rows):
    path = tmp_path / "paths.csv"
    path.write_bytes(data)
    assert ingest.paths_file_rows(path) == rows == len(ingest.read_paths_table(path))


@pytest.mark.parametrize("data, message", [
    (b"paths\ra.jpg\rb.jpg\r", r"line 1: a carriage return \(\\r\) that does not end a \\r\\n pair"),
    (b"paths\na.jpg\rb.jpg\n", r"line 2: a carriage return"),
    (b"paths\na.jpg\n\nb.jpg\n", r"line 3: empty line"),
    (b"paths\na.jpg\n\r\n", r"line 3: empty line"),
    (b"paths\n\"a\nb.jpg\"\nc.jpg\n", r"line 2: a quoted field runs on to the next line"),
    (b"paths,x\na.jpg,\"1\n2\"\n", r"line 2: a quoted field runs on to the next line"),
])
def test_files_where_a_line_is_not_a_row_are_refused_before_the_run(tmp_path, data, message):
    path = tmp_path / "paths.csv"
    path.write_bytes(data)
    for read in (ingest.paths_file_rows, ingest.read_paths_table):
        with pytest.raises(InputError, match=r"paths\.csv, " + message):
            read(path)


def test_a_column_named_twice_is_refused(tmp_path):
    # pandas would rename the second one 'x.1' silently
    path = write_paths(tmp_path, ["paths,x,x", "a.jpg,1,2"])
    with pytest.raises(InputError, match=r"paths\.csv, line 1: column 'x' appears twice"):
        ingest.read_paths_table(path)


# --- numbers --------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-30, 1e-20, np.float32(1e-40)])
def test_descriptors_too_small_for_float32_products_say_rescale(scale):
    array = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32) * np.float32(scale)
    with pytest.raises(InputError, match=r"^tiny\.npy: the largest absolute value is .*underflow "
                                         r"float32 .*rescale the descriptors \(multiply them by a "
                                         r"constant, e\.g\. 1e\+\d+\)$"):
        ingest.check_descriptor_array(array, "tiny.npy", 20)
    ingest.check_descriptor_array(array.astype(np.float64) / scale * 1e-15, "ok.npy", 20)
