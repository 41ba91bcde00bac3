"""Ingest checks: the paths file, descriptor arrays, and the Parquet they become."""

import numpy as np
import pandas as pd
import pytest

from descluster import ingest, steps
from descluster.errors import InputError


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
    with pytest.raises(InputError, match=r"NaN, inf or values beyond float32 range in row\(s\) 2, 7, 8 \(0-based\)"):
        ingest.check_descriptor_array(array, "d.pickle", n_paths=10, chunk_rows=4)


def test_integer_arrays_pass():
    ingest.check_descriptor_array(np.ones((3, 2), dtype=np.uint8), "d", n_paths=3)


def test_ingest_round_trip_casts_to_float32(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.normal(size=(70, 6))  # float64 on disk, as some real files are
    np.save(tmp_path / "d.npy", array)
    write_paths(tmp_path, ["paths"] + [rf"p\{i}.jpg" for i in range(70)])
    steps.ingest_paths(tmp_path / "paths.csv", tmp_path / "images.parquet")
    steps.ingest_descriptors(tmp_path / "d.npy", tmp_path / "images.parquet", tmp_path / "d.parquet")
    assert ingest.descriptor_shape(tmp_path / "d.parquet") == (70, 6)
    batches = list(ingest.iter_descriptor_batches(tmp_path / "d.parquet", batch_rows=32))
    assert [len(b) for b in batches] == [32, 32, 6]
    assert all(b.dtype == np.float32 for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), array.astype(np.float32))
    paths = pd.read_parquet(tmp_path / "d.parquet", columns=["paths"])["paths"]
    assert paths.iloc[3] == "p/3.jpg"


def test_ingest_stops_before_writing(tmp_path):
    np.save(tmp_path / "d.npy", np.ones((3, 2)))
    write_paths(tmp_path, ["paths", "a", "b"])
    steps.ingest_paths(tmp_path / "paths.csv", tmp_path / "images.parquet")
    with pytest.raises(InputError, match=r"d\.npy: 3 rows, but the paths file lists 2 images"):
        steps.ingest_descriptors(tmp_path / "d.npy", tmp_path / "images.parquet",
                                 tmp_path / "out" / "d.parquet")
    assert not (tmp_path / "out" / "d.parquet").exists()


def test_large_array_is_never_held_twice(tmp_path):
    """Loading holds the array once; checking and writing add only chunks (numpy's share,
    which tracemalloc sees; Arrow's buffers are per row group too)."""
    import pickle
    import tracemalloc

    array = np.ones((20000, 250), dtype=np.float32)  # 20 MB
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
        ingest.write_descriptor_parquet(loaded, [f"p{i}" for i in range(20000)],
                                        tmp_path / "big.parquet", chunk_rows=2000)
        assert tracemalloc.get_traced_memory()[1] - baseline < 0.35 * size
    finally:
        tracemalloc.stop()
