"""Hostile descriptor pickles: each is refused in one line, before it can allocate.

Every pickle here is made for the test: either by a pickler told to call numpy's own
functions with arguments numpy never writes (``Call``), or byte by byte from opcodes.
Memory is measured with tracemalloc, which sees numpy's and the unpickler's
allocations: a refused file never costs more than a megabyte, whatever it claims.
"""

import codecs
import pickle
import re
import struct
import tracemalloc

import numpy as np
import pytest
from numpy._core.multiarray import _reconstruct
from numpy._core.numeric import _frombuffer

from conftest import numpy1_pickle_bytes
from descluster.errors import InputError
from descluster.files import load_pickled_array

PROTOCOLS = [2, 3, 4, 5]
SMALL = 1_000_000  # bytes a refusal may cost at most


class Call:
    """Pickles as ``function(*args)``, then BUILD with ``state`` when given."""

    def __init__(self, function, args, state=None):
        self.reduced = (function, args) if state is None else (function, args, state)

    def __reduce__(self):
        return self.reduced


def empty_array(state):
    """numpy's own pickle form: an empty array from _reconstruct, then its state."""
    return Call(_reconstruct, (np.ndarray, (0,), b"b"), state)


F8 = np.dtype("f8")
HUGE = (10 ** 6, 10 ** 6)  # 8 TB of float64
BLOCK = bytes(800)

HOSTILE = {
    # a shape and dtype with 8 bytes of data behind them
    "shape_without_data": (
        empty_array((1, HUGE, F8, False, b"12345678")),
        r"an array claims 8000000000000 bytes \(shape \(1000000, 1000000\), dtype float64\) but holds 8"),
    # _reconstruct allocates the shape it is given: numpy itself only ever gives (0,)
    "reconstruct_with_a_shape": (
        Call(_reconstruct, (np.ndarray, (10 ** 5, 10 ** 4), b"b")),
        r"it calls _reconstruct other than as numpy does"),
    # an array over 8 bytes with zero strides
    "zero_strides": (
        Call(np.ndarray, (HUGE, F8, b"12345678", 0, (0, 0))),
        r"it calls numpy.ndarray directly"),
    "frombuffer_with_a_shape": (
        Call(_frombuffer, (b"12345678", F8, HUGE, "C")),
        r"an array claims 8000000000000 bytes"),
    "frombuffer_with_axis_order": (
        Call(_frombuffer, (bytes(64), F8, (2, 2, 2), "K", (2, 0, 1))),
        r"it calls _frombuffer other than as numpy does"),
    "object_dtype": (
        empty_array((1, (10 ** 6,), np.dtype(object), False, b"")),
        r"it builds a dtype from 'O8', not a plain number or string type"),
    "structured_dtype": (
        np.zeros(3, dtype=[("a", "f4"), ("b", "O")]),
        r"it builds a dtype from 'V\d+', not a plain number or string type"),
    "dtype_state_turned_into_objects": (
        Call(np.dtype, ("f8", False, True), (3, "<", None, None, None, -1, -1, 63)),
        r"its dtype state is not that of a plain number or string type"),
    "dtype_state_with_fields": (
        Call(np.dtype, ("f8", False, True),
             (3, "<", None, ("a",), {"a": (np.dtype("f8"), 0)}, 8, 8, 0)),
        r"its dtype state is not that of a plain number or string type"),
    "encode_nested": (
        Call(codecs.encode, (Call(codecs.encode, (Call(codecs.encode, ("ab", "latin1")), "hex")), "hex")),
        r"it calls _codecs.encode other than as encode\(text, 'latin1'\)"),
    "encode_other_codec": (
        Call(codecs.encode, ("a" * 1000, "utf-32")),
        r"it calls _codecs.encode other than as encode\(text, 'latin1'\)"),
    "encode_more_arguments": (
        Call(codecs.encode, ("abc", "latin1", "strict")),
        r"it calls _codecs.encode other than"),
    "encode_bytes": (
        Call(codecs.encode, (b"abc", "latin1")),
        r"it calls _codecs.encode other than"),
    # one stored text encoded again and again: each call allocates, the file holds it once
    "encode_repeated": (
        [Call(codecs.encode, ("x" * 1000, "latin1")) for _ in range(50)],
        r"its encoded bytes add up to \d+, more than the file's \d+"),
    # one stored data block shared by many arrays
    "data_shared_by_arrays": (
        [empty_array((1, (100,), F8, False, BLOCK)) for _ in range(50)],
        r"its arrays claim \d+ bytes but the file holds only \d+"),
}


def refused_cheaply(path, match):
    """Load ``path`` expecting a one-line refusal naming it; return peak traced bytes."""
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            load_pickled_array(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert len(message) < 400
    assert re.search(match, message), message
    return peak


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_pickle_is_refused_before_allocating(tmp_path, case, protocol):
    payload, match = HOSTILE[case]
    path = tmp_path / f"{case}.pickle"
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    assert refused_cheaply(path, match) < SMALL


def op_text_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_unicode(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def test_hand_assembled_numpy1_protocol2_shape_claim(tmp_path):
    """Opcode by opcode, as numpy 1.x writes protocol 2, but 10**12 rows over 4 bytes."""
    data = (
        b"\x80\x02"
        + op_text_global("numpy.core.multiarray", "_reconstruct")
        + op_text_global("numpy", "ndarray")
        + b"K\x00\x85"  # (0,)
        + op_text_global("_codecs", "encode") + op_unicode("b") + op_unicode("latin1") + b"\x86R"
        + b"\x87R"  # _reconstruct(ndarray, (0,), b'b')
        + b"(K\x01"  # state: (1,
        + b"\x8a\x06" + (10 ** 12).to_bytes(6, "little") + b"K\x01\x86"  # (10**12, 1),
        + op_text_global("numpy", "dtype") + op_unicode("f4") + b"K\x00K\x01\x87R"
        + b"(K\x03" + op_unicode("<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        + b"\x89"  # not Fortran order
        + op_text_global("_codecs", "encode") + op_unicode("\x00\x00\x80?") + op_unicode("latin1")
        + b"\x86R"
        + b"tb."
    )
    path = tmp_path / "claim.pickle"
    path.write_bytes(data)
    assert len(data) < 250
    assert refused_cheaply(path, r"an array claims 4000000000000 bytes") < SMALL


OPCODE_BOMBS = {
    # the unpickler would grow its memo to 2 x 10**7 entries (160 MB) for one index
    "memo_index": (b"\x80\x04N" + b"r" + struct.pack("<I", 10 ** 7) + b".",
                   r"it stores memo entry 10000000 when only 0 exist"),
    "memo_index_protocol2": (b"\x80\x02N" + b"r" + struct.pack("<I", 10 ** 7) + b".",
                             r"it stores memo entry 10000000"),
    # declared lengths the unpickler allocates before it reads them
    "bytes8_length": (b"\x80\x04\x8e" + struct.pack("<Q", 10 ** 9) + b"abc.",
                      r"its BINBYTES8 opcode declares 1000000000 bytes but only 4 follow"),
    "unicode8_length": (b"\x80\x04\x8d" + struct.pack("<Q", 10 ** 9) + b"abc.",
                        r"its BINUNICODE8 opcode declares 1000000000 bytes"),
    "bytearray8_length": (b"\x80\x05\x96" + struct.pack("<Q", 10 ** 9) + b"abc.",
                          r"its BYTEARRAY8 opcode declares 1000000000 bytes"),
    "frame_length": (b"\x80\x04\x95" + struct.pack("<Q", 10 ** 9) + b"N.",
                     r"its FRAME opcode declares 1000000000 bytes"),
    "long4_length": (b"\x80\x02\x8b" + struct.pack("<i", 10 ** 9) + b"\x01.",
                     r"its LONG4 opcode declares 1000000000 bytes"),
    "binunicode_length": (b"\x80\x02X" + struct.pack("<I", 2 ** 31) + b"ab.",
                          r"its BINUNICODE opcode declares 2147483648 bytes"),
}


@pytest.mark.parametrize("case", sorted(OPCODE_BOMBS))
def test_opcode_bombs_are_refused_before_allocating(tmp_path, case):
    data, match = OPCODE_BOMBS[case]
    path = tmp_path / f"{case}.pickle"
    path.write_bytes(data)
    assert refused_cheaply(path, match) < SMALL


def test_long_global_name_is_not_repeated_in_full(tmp_path):
    path = tmp_path / "long.pickle"
    path.write_bytes(b"\x80\x02" + op_text_global("os" + "x" * 100_000, "system") + b".")
    message = str(pytest.raises(InputError, load_pickled_array, path).value)
    assert "it names the global 'osxxx" in message and len(message) < 400


LEGIT = {
    "float32_C": np.random.default_rng(0).normal(size=(50, 7)).astype(np.float32),
    "float32_F": np.asfortranarray(np.random.default_rng(1).normal(size=(50, 7)).astype(np.float32)),
    "big_endian_float64": np.arange(21, dtype=">f8").reshape(7, 3),
    "uint8": np.arange(60, dtype=np.uint8).reshape(12, 5),
    "bool": np.eye(4, dtype=bool),
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", sorted(LEGIT))
def test_real_numpy_pickles_still_load(tmp_path, case, protocol):
    array = LEGIT[case]
    path = tmp_path / "ok.pickle"
    path.write_bytes(pickle.dumps(array, protocol=protocol))
    loaded = load_pickled_array(path)
    # numpy's own unpickling of a file the test made (big-endian comes back native)
    reference = pickle.loads(path.read_bytes())  # noqa: S301
    assert loaded.dtype == reference.dtype and loaded.flags.f_contiguous == array.flags.f_contiguous
    np.testing.assert_array_equal(loaded, array)
    if protocol < 5:  # numpy 1.x wrote these (it had no protocol-5 form)
        path.write_bytes(numpy1_pickle_bytes(array, protocol))
        np.testing.assert_array_equal(load_pickled_array(path), array)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_real_pickle_costs_a_small_multiple_of_its_size(tmp_path, protocol):
    array = np.random.default_rng(0).normal(size=(2000, 250)).astype(np.float32)  # 2 MB
    path = tmp_path / "ok.pickle"
    path.write_bytes(numpy1_pickle_bytes(array, protocol) if protocol < 5
                     else pickle.dumps(array, protocol=protocol))
    size = path.stat().st_size
    del array
    tracemalloc.start()
    try:
        loaded = load_pickled_array(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.shape == (2000, 250)
    # protocol 2 stores the data as text (UTF-8, up to 2 bytes per byte) and decodes it
    assert peak < (3.5 if protocol == 2 else 1.2) * size


def test_values_below_the_ingest_limit_whose_sums_overflow_stop_the_pca_in_one_line():
    """Rows pass ingest one by one, but their products summed over a batch overflow float32:
    the covariance PCA stops with one line; IncrementalPCA (an SVD) computes them finitely."""
    from descluster import ingest, pca

    limit = ingest.value_limit(4)
    X = np.random.default_rng(0).uniform(-0.9, 0.9, size=(2000, 4)).astype(np.float32) * np.float32(limit)
    ingest.check_descriptor_array(X, "x", 2000)
    with np.errstate(over="ignore"):
        with pytest.raises(InputError, match=r"^PCA: the descriptors' sums of squares overflow "
                                             r"float32 \(values too large\); scale the descriptors down$"):
            pca.fit_covariance_pca([X[:1000], X[1000:]], 2)
        fit = pca.fit_incremental_pca([X[:1000], X[1000:]], 2)
    assert np.isfinite(fit.explained_variance).all() and np.isfinite(fit.components).all()
