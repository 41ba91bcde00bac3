"""Safe loading of descriptor files and atomic outputs."""

import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import numpy1_pickle_bytes
from descluster.errors import InputError
from descluster.files import (atomic_directory, atomic_output, load_descriptor_array,
                              load_descriptor_paths, load_pickled_array, remove_stale_partials)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numpy2_pickles_of_every_protocol_load(tmp_path, protocol, dtype):
    array = (np.arange(24).reshape(6, 4) * 1.5).astype(dtype)
    path = tmp_path / "x.pickle"
    path.write_bytes(pickle.dumps(array, protocol=protocol))
    loaded = load_pickled_array(path)
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, array)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_numpy1_pickles_load(tmp_path, protocol):
    array = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    data = numpy1_pickle_bytes(array, protocol)
    assert b"numpy.core.multiarray" in data and b"numpy._core" not in data
    path = tmp_path / "old.pickle"
    path.write_bytes(data)
    np.testing.assert_array_equal(load_pickled_array(path), array)


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _RunsSubprocess:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import subprocess

        return (subprocess.call, (["touch", str(self.marker)],))


@pytest.mark.parametrize("payload", [_RunsShell, _RunsSubprocess])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pickle"
    # the payload hides inside a list next to a real array
    path.write_bytes(pickle.dumps([np.zeros((2, 2)), payload(marker)], protocol=4))
    with pytest.raises(InputError, match=r"evil\.pickle: refused to load pickle: it names the global"):
        load_pickled_array(path)
    assert not marker.exists()


def test_truncated_pickle(tmp_path):
    path = tmp_path / "cut.pickle"
    path.write_bytes(pickle.dumps(np.ones((100, 10)), protocol=4)[:500])
    with pytest.raises(InputError, match=r"cut\.pickle: not a readable numpy array pickle.*truncated"):
        load_pickled_array(path)


def test_pickle_of_a_non_array(tmp_path):
    path = tmp_path / "dict.pickle"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(InputError, match=r"dict\.pickle: the pickle holds a dict, expected a numpy array"):
        load_pickled_array(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pickle"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.pickle: descriptor file is empty"):
        load_descriptor_array(path)


def test_npy_is_memory_mapped_and_object_npy_refused(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", array)
    loaded = load_descriptor_array(tmp_path / "a.npy")
    assert isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, array)
    np.save(tmp_path / "obj.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match=r"obj\.npy: not a plain \.npy array"):
        load_descriptor_array(tmp_path / "obj.npy")


def test_parquet_inputs(tmp_path):
    array = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(array.ravel()), 3)
    pq.write_table(pa.table({"paths": list("abcde"), "vector": vectors}), tmp_path / "l.parquet")
    np.testing.assert_array_equal(load_descriptor_array(tmp_path / "l.parquet"), array)
    pd.DataFrame(array, columns=["d0", "d1", "d2"]).to_parquet(tmp_path / "c.parquet")
    np.testing.assert_array_equal(load_descriptor_array(tmp_path / "c.parquet"), array)
    pd.DataFrame({"name": list("abcde")}).to_parquet(tmp_path / "s.parquet")
    with pytest.raises(InputError, match=r"s\.parquet: expected one fixed-size-list column"):
        load_descriptor_array(tmp_path / "s.parquet")


def test_unknown_format(tmp_path):
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(InputError, match=r"x\.csv: unknown descriptor format '\.csv'"):
        load_descriptor_array(tmp_path / "x.csv")


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out" / "table.tsv"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []
    with atomic_output(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["table.tsv"]


def parquet_with_paths(path, array, paths):
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(array.ravel()), array.shape[1])
    pq.write_table(pa.table({"paths": paths, "vector": vectors}), path)


def test_descriptor_paths_of_parquet_files(tmp_path):
    array = np.arange(6, dtype=np.float32).reshape(3, 2)
    parquet_with_paths(tmp_path / "l.parquet", array, ["a.jpg", None, "c.jpg"])
    assert load_descriptor_paths(tmp_path / "l.parquet") == ["a.jpg", None, "c.jpg"]
    pd.DataFrame({"paths": [1, 2, 3], "d0": [0.0, 1, 2]}).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(InputError, match=r"n\.parquet: column 'paths' holds int64, expected image paths"):
        load_descriptor_paths(tmp_path / "n.parquet")
    pd.DataFrame({"d0": [0.0, 1, 2]}).to_parquet(tmp_path / "none.parquet")
    assert load_descriptor_paths(tmp_path / "none.parquet") is None
    np.save(tmp_path / "a.npy", array)
    assert load_descriptor_paths(tmp_path / "a.npy") is None


def test_a_paths_column_is_never_a_dimension(tmp_path):
    frame = pd.DataFrame({"paths": [7, 8], "d0": [0.5, 1.5], "d1": [True, False]})
    frame.to_parquet(tmp_path / "c.parquet")
    loaded = load_descriptor_array(tmp_path / "c.parquet")
    np.testing.assert_array_equal(loaded, [[0.5, 1.0], [1.5, 0.0]])


def dead_pid():
    """The id of a process that has ended (not reused so soon on a test machine)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_partials_of_killed_writers_are_removed(tmp_path):
    target = tmp_path / "out" / "table.tsv"
    target.parent.mkdir()
    stale_file = target.parent / f".table.partial-{dead_pid()}.tsv"
    stale_file.write_text("half")
    live_file = target.parent / f".table.partial-{os.getppid()}.tsv"  # a running process
    live_file.write_text("being written")
    other = target.parent / f".tables.partial-{dead_pid()}.tsv"  # another output's
    other.write_text("not ours")
    with atomic_output(target) as tmp:
        tmp.write_text("whole")
    assert not stale_file.exists()
    assert live_file.exists() and other.exists()
    assert target.read_text() == "whole"

    folder = tmp_path / "sheets"
    stale_dir = tmp_path / f".sheets.partial-{dead_pid()}"
    (stale_dir / "inner").mkdir(parents=True)
    (stale_dir / "inner" / "a.jpg").write_bytes(b"x")
    with atomic_directory(folder) as staging:
        (staging / "b.jpg").write_bytes(b"y")
    assert not stale_dir.exists()
    assert [p.name for p in folder.iterdir()] == ["b.jpg"]


def test_a_writer_killed_mid_write_leaves_litter_that_the_next_run_removes(tmp_path):
    target = tmp_path / "big.npy"
    script = (
        "import os, signal, sys\n"
        "from descluster.files import atomic_output\n"
        "with atomic_output(sys.argv[1]) as tmp:\n"
        "    open(tmp, 'wb').write(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(target)])
    assert result.returncode == -9
    litter = list(tmp_path.glob(".big.partial-*.npy"))
    assert len(litter) == 1 and not target.exists()
    assert remove_stale_partials(target) == litter
    assert list(tmp_path.iterdir()) == []


def npy_with_header(shape_text, data, descr="'<f4'"):
    """A .npy file's bytes with a header written by hand (numpy never writes these shapes)."""
    import struct

    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape_text}, }}".encode()
    header += b" " * (118 - len(header)) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


@pytest.mark.parametrize("shape, message", [
    ("(-1, 4)", r"declares shape \(-1, 4\); dimensions must be whole numbers >= 0"),
    ("(-4, -4)", r"declares shape \(-4, -4\); dimensions must be"),
    ("(100000000000000000000, 4)", r"declares shape \(100000000000000000000, 4\)"),
    ("(1000000, 1000000)", r"declares shape \(1000000, 1000000\) of float32 "
                                      r"\(4000000000000 bytes\) but 64 bytes follow it"),
    ("(3, 4)", r"\(48 bytes\) but 64 bytes follow it; the file is truncated or corrupt"),
    ("(10**20, 4)", r"not a plain \.npy array \(its header: "),
    ("(2.5, 4)", r"not a plain \.npy array \(its header: shape is not valid"),
])
def test_npy_headers_that_lie_about_the_shape_are_refused_in_one_line(tmp_path, shape, message):
    path = tmp_path / "bad.npy"
    path.write_bytes(npy_with_header(shape, bytes(64)))
    with pytest.raises(InputError, match=r"^" + re.escape(str(path)) + ": .*" + message) as caught:
        load_descriptor_array(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300
    path.write_bytes(npy_with_header("(4, 4)", bytes(64)))
    assert load_descriptor_array(path).shape == (4, 4)


ROW_BREAKERS = ["tab\there", "new\nline", "lone\rreturn", 'quote"d', "line\u2028sep", "vt\x0bx",
                "next\x85line", "plain"]


@pytest.mark.parametrize("writer", ["write_table", "write_rows"])
def test_every_tsv_row_reads_back_as_one_row(tmp_path, writer):
    from descluster import files

    frame = pd.DataFrame({"text": ROW_BREAKERS, "n": range(len(ROW_BREAKERS)),
                          "x": np.linspace(0, 1, len(ROW_BREAKERS))})
    path = tmp_path / "t.tsv"
    if writer == "write_table":
        files.write_table(frame, path)
    else:
        files.write_rows(frame.to_dict("records"), list(frame.columns), path)
    back = pd.read_csv(path, sep="\t", keep_default_na=False)
    assert back["text"].tolist() == ROW_BREAKERS and back["n"].tolist() == list(frame["n"])
    np.testing.assert_allclose(back["x"], frame["x"], rtol=1e-5)
    # a field that would end a row is quoted
    raw = path.read_bytes().decode("utf-8")
    assert '"lone\rreturn"' in raw and '"line\u2028sep"' in raw and "\tplain\t" not in raw


def test_a_table_without_row_breakers_is_written_as_before(tmp_path):
    from descluster import files

    frame = pd.DataFrame({"a": ["x", "y"], "b": [1.5, np.nan], "c": [True, False]})
    files.write_table(frame, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text() == "a\tb\tc\nx\t1.5\tTrue\ny\t\tFalse\n"
    files.write_rows(frame.to_dict("records"), list(frame.columns), tmp_path / "r.tsv")
    assert (tmp_path / "r.tsv").read_text() == (tmp_path / "t.tsv").read_text()
