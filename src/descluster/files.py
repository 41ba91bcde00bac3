"""Reading user files safely and writing outputs atomically."""

import contextlib
import io
import logging
import math
import os
import pickle
import pickletools
import re
import shutil
from pathlib import Path

import numpy as np

from descluster import parquetfile
from descluster.errors import InputError, shorten

log = logging.getLogger(__name__)

# The only globals a pickled numpy array needs, under numpy 1.x and 2.x module names,
# for protocols 2 to 5 (protocol 2 stores raw bytes through ``_codecs.encode``).
_ALLOWED_PICKLE_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}
# dtype strings numpy writes for plain numbers, dates and strings ('f4', 'i8', 'b1', 'M8', 'U20')
_TYPESTR = re.compile(r"[biufcmMSU][0-9]{1,5}")
_MAX_NDIM = 32
# argument kinds of pickle opcodes that carry a length: (bytes of the length, signed)
_COUNTED_ARGUMENTS = {
    pickletools.TAKEN_FROM_ARGUMENT1: (1, False),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, True),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, False),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, False),
}
_OPCODES = {op.code.encode("latin-1"): op for op in pickletools.opcodes}


def _numpy_function(submodule, name):
    """numpy's own ``_reconstruct`` or ``_frombuffer``, from numpy 2 or numpy 1 module names."""
    try:
        module = __import__(f"numpy._core.{submodule}", fromlist=[name])
    except ImportError:  # numpy < 2
        module = __import__(f"numpy.core.{submodule}", fromlist=[name])
    return getattr(module, name)


def _scan_pickle(handle, size, source):
    """Check, before unpickling, every length and memo index a pickle declares.

    Python's unpickler allocates what an opcode declares before reading it (a 15-byte
    pickle can ask for gigabytes) and grows its memo to twice any index it is given.
    Here no declared length may exceed the bytes that follow it, and memo indices must
    be the next free one or an earlier one. Payloads are skipped, not read.
    """
    memo_entries = 0
    while True:
        code = handle.read(1)
        if not code:
            raise InputError(f"{source}: not a readable numpy array pickle (it ends before its "
                             "STOP opcode); the file may be truncated or corrupt")
        op = _OPCODES.get(code)
        if op is None:
            raise InputError(f"{source}: not a readable numpy array pickle (unknown opcode "
                             f"{code!r} at byte {handle.tell() - 1}); the file may be corrupt")
        if op.name == "STOP":
            return
        memo_entries += op.name == "MEMOIZE"
        if op.arg is None:
            continue
        if op.arg.n in _COUNTED_ARGUMENTS:
            width, signed = _COUNTED_ARGUMENTS[op.arg.n]
            length = int.from_bytes(handle.read(width), "little", signed=signed)
            _check_declared_length(length, size - handle.tell(), op.name, source)
            handle.seek(length, os.SEEK_CUR)
            continue
        value = op.arg.reader(handle)
        if op.name == "FRAME":
            _check_declared_length(value, size - handle.tell(), op.name, source)
        elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if not 0 <= value <= memo_entries:
                raise InputError(
                    f"{source}: refused to load pickle: it stores memo entry {value} when only "
                    f"{memo_entries} exist (the unpickler would allocate room for all of them)"
                )
            memo_entries = max(memo_entries, value + 1)


def _check_declared_length(length, remaining, opcode, source):
    if not 0 <= length <= remaining:
        raise InputError(
            f"{source}: not a readable numpy array pickle (its {opcode} opcode declares {length} "
            f"bytes but only {remaining} follow; nothing was allocated); the file may be "
            "truncated or corrupt"
        )


def _shape(value):
    """``value`` if it is an array shape (a tuple of at most 32 ints in [0, 2**63)), else None."""
    if (type(value) is tuple and len(value) <= _MAX_NDIM
            and all(type(n) is int and 0 <= n < 2 ** 63 for n in value)):
        return value
    return None


def _is_int(value, expected):
    """True for the int or bool ``expected`` (numpy 1.x writes 0/1 where numpy 2 writes False/True)."""
    return type(value) in (int, bool) and value == expected


class _PickleLoad:
    """One restricted load: the file's name and size, and the bytes built from it so far."""

    def __init__(self, source, size):
        self.source = source
        self.size = size
        self.array_bytes = 0
        self.encoded_bytes = 0
        self.ndarray = _NdarrayName(self)

    def refuse(self, reason):
        return InputError(f"{self.source}: refused to load pickle: {reason}")

    def claim_array(self, shape, dtype, n_data):
        """Account for an array of ``shape`` and ``dtype`` over ``n_data`` bytes of the file."""
        n_bytes = math.prod(shape) * dtype.itemsize
        if n_bytes != n_data:
            raise self.refuse(f"an array claims {n_bytes} bytes (shape {shape}, dtype {dtype}) "
                              f"but holds {n_data}")
        self.array_bytes += n_bytes
        if self.array_bytes > self.size:
            raise self.refuse(f"its arrays claim {self.array_bytes} bytes but the file holds "
                              f"only {self.size}")

    def claim_encoded(self, n_bytes):
        self.encoded_bytes += n_bytes
        if self.encoded_bytes > self.size:
            raise self.refuse(f"its encoded bytes add up to {self.encoded_bytes}, more than the "
                              f"file's {self.size}")

    def plain(self, array):
        """``array`` if it is C- or F-contiguous (no zero strides, no view over a smaller buffer)."""
        if not (array.flags.c_contiguous or array.flags.f_contiguous):
            raise self.refuse(f"the array has strides {array.strides}, not a plain C or F layout")
        return array


class _Checked:
    """What the restricted unpickler hands out instead of a numpy callable or object.

    Each call checks its arguments against the exact form numpy and pickle write,
    and only then lets numpy build anything. A pickle cannot set the state of these
    objects (BUILD) unless they define ``__setstate__`` themselves.
    """

    __slots__ = ("load",)
    what = "a numpy name"

    def __init__(self, load):
        self.load = load

    def __setstate__(self, state):
        raise self.load.refuse(f"it sets the state of {self.what}")


class _NdarrayName(_Checked):
    """``numpy.ndarray``: only an argument of ``_reconstruct``, never called."""

    __slots__ = ()
    what = "numpy.ndarray"

    def __call__(self, *args):
        raise self.load.refuse("it calls numpy.ndarray directly (an array over a buffer with "
                               "its own shape and strides)")


class _DtypeCall(_Checked):
    """``numpy.dtype(typestr, False, True)``: a plain number, date or string type."""

    __slots__ = ()
    what = "numpy.dtype"

    def __call__(self, typestr, align=False, copy=True):
        if not (type(typestr) is str and _TYPESTR.fullmatch(typestr)
                and _is_int(align, 0) and _is_int(copy, 1)):
            raise self.load.refuse(f"it builds a dtype from {shorten(repr(typestr))}, not a "
                                   "plain number or string type")
        return _PendingDtype(self.load, np.dtype(typestr, False, True))


class _PendingDtype(_Checked):
    """A dtype whose pickled state (byte order, string length) is checked before numpy applies it."""

    __slots__ = ("dtype", "state_set")
    what = "numpy dtype"

    def __init__(self, load, dtype):
        super().__init__(load)
        self.dtype = dtype
        self.state_set = False

    def __setstate__(self, state):
        # numpy: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if self.state_set:
            raise self.load.refuse("it sets a dtype's state twice")
        if (type(state) is not tuple or len(state) not in (8, 9)
                or any(item is not None for item in state[2:5])
                or not _is_int(state[7], self.dtype.flags)):
            raise self.load.refuse("its dtype state is not that of a plain number or string type")
        self.dtype.__setstate__(state)
        self.state_set = True

    def checked(self):
        dtype = self.dtype
        if (dtype.kind not in "biufcmMSU" or dtype.hasobject or dtype.fields is not None
                or dtype.subdtype is not None or dtype.itemsize == 0):
            raise self.load.refuse(f"dtype {dtype} is not a plain number or string type")
        return dtype


class _ReconstructCall(_Checked):
    """numpy's ``_reconstruct(ndarray, (0,), b'b')``: an empty array whose state follows."""

    __slots__ = ()
    what = "numpy's _reconstruct"

    def __call__(self, subtype, shape, typecode):
        if not (subtype is self.load.ndarray and _shape(shape) == (0,)
                and type(typecode) is bytes and len(typecode) == 1):
            raise self.load.refuse("it calls _reconstruct other than as numpy does, "
                                   "_reconstruct(ndarray, (0,), b'b')")
        return _PendingArray(self.load)


class _PendingArray(_Checked):
    """An array from ``_reconstruct`` (built when its state comes) or ``_frombuffer``."""

    __slots__ = ("array",)
    what = "numpy array"

    def __init__(self, load, array=None):
        super().__init__(load)
        self.array = array

    def __setstate__(self, state):
        # numpy: (version, shape, dtype, is_fortran, raw bytes)
        if self.array is not None:
            raise self.load.refuse("it sets an array's state twice")
        if type(state) is not tuple or len(state) != 5:
            raise self.load.refuse("its array state is not numpy's (1, shape, dtype, order, data)")
        version, shape, dtype, is_fortran, data = state
        shape = _shape(shape)
        if not (_is_int(version, 1) and shape is not None and isinstance(dtype, _PendingDtype)
                and (_is_int(is_fortran, 0) or _is_int(is_fortran, 1)) and type(data) is bytes):
            raise self.load.refuse("its array state is not numpy's (1, shape, dtype, order, data)")
        dtype = dtype.checked()
        self.load.claim_array(shape, dtype, len(data))
        array = _numpy_function("multiarray", "_reconstruct")(np.ndarray, (0,), b"b")
        array.__setstate__((1, shape, dtype, bool(is_fortran), data))
        self.array = self.load.plain(array)


class _FrombufferCall(_Checked):
    """numpy 2's ``_frombuffer(data, dtype, shape, order)`` of protocol 5, orders C and F."""

    __slots__ = ()
    what = "numpy's _frombuffer"

    def __call__(self, buffer, dtype, shape, order, axis_order=None):
        shape = _shape(shape)
        if not (type(buffer) in (bytes, bytearray, memoryview) and isinstance(dtype, _PendingDtype)
                and shape is not None and type(order) is str and order in ("C", "F")
                and axis_order is None):
            raise self.load.refuse("it calls _frombuffer other than as numpy does for a C or "
                                   "F array, _frombuffer(data, dtype, shape, 'C' or 'F')")
        dtype = dtype.checked()
        self.load.claim_array(shape, dtype, memoryview(buffer).nbytes)
        array = _numpy_function("numeric", "_frombuffer")(buffer, dtype, shape, order)
        return _PendingArray(self.load, self.load.plain(array))


class _EncodeCall(_Checked):
    """``_codecs.encode(text, 'latin1')``: how protocol 2 stores bytes, and nothing else."""

    __slots__ = ()
    what = "_codecs.encode"

    def __call__(self, *args):
        if not (len(args) == 2 and type(args[0]) is str and type(args[1]) is str
                and args[1] == "latin1"):
            raise self.load.refuse("it calls _codecs.encode other than as encode(text, 'latin1'), "
                                   "the only form pickle writes for bytes")
        self.load.claim_encoded(len(args[0]))
        return args[0].encode("latin1")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays through checked builders and refuses every other global."""

    def __init__(self, file, load):
        super().__init__(file)
        self._load = load
        self._names = {"ndarray": load.ndarray, "dtype": _DtypeCall(load),
                       "_reconstruct": _ReconstructCall(load),
                       "_frombuffer": _FrombufferCall(load), "encode": _EncodeCall(load)}

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_PICKLE_GLOBALS:
            raise self._load.refuse(
                f"it names the global '{shorten(f'{module}.{name}')}', and only numpy array "
                "pickles are accepted"
            )
        return self._names[name]

    def persistent_load(self, pid):
        raise self._load.refuse("it uses persistent ids")


def load_pickled_array(path):
    """Load a pickle that holds one numpy array, running no code but numpy's own.

    Every length the pickle declares is checked against the bytes that follow before
    anything is read; every numpy call is checked against the form numpy writes, and an
    array must be backed by as many bytes of the file as it claims, so a file of N
    bytes never makes the loader allocate much more than N bytes.

    Parameters
    ----------
    path : str or Path
        A pickle (protocol 2 to 5) of a plain numpy array, written by numpy 1.x or 2.x.

    Returns
    -------
    ndarray
        The array as pickled (a number, date or string dtype, possibly read-only), C- or
        F-contiguous. Protocols 3 to 5 hold one copy of the data in memory; protocol 2
        briefly holds about 2.3 copies.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            _scan_pickle(handle, size, path)
            handle.seek(0)
            load = _PickleLoad(path, size)
            obj = _ArrayUnpickler(handle, load).load()
    except InputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, MemoryError, OverflowError) as exc:
        raise InputError(
            f"{path}: not a readable numpy array pickle "
            f"({type(exc).__name__}: {shorten(exc)}); the file may be truncated or corrupt"
        ) from None
    if isinstance(obj, _PendingArray) and obj.array is not None:
        return obj.array
    if isinstance(obj, _PendingArray):
        raise load.refuse("its array has no data (no state follows _reconstruct)")
    what = obj.what if isinstance(obj, _Checked) else type(obj).__name__
    raise InputError(f"{path}: the pickle holds a {what}, expected a numpy array")


def _check_npy_header(path):
    """Refuse a .npy file whose header declares a shape its data does not fill: negative or
    absurd dimensions, or more (or fewer) bytes than follow the header."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"format version {version}")
            shape, _, dtype = read_header(handle, max_header_size=10_000)
            offset = handle.tell()
    except (ValueError, OverflowError, SyntaxError, TypeError) as exc:
        raise InputError(f"{path}: not a plain .npy array (its header: {shorten(exc)})") from None
    if dtype.hasobject:
        raise InputError(f"{path}: not a plain .npy array (dtype {dtype} holds Python objects, "
                         "which are never unpickled)")
    if not all(isinstance(n, int) and 0 <= n < 2 ** 63 for n in shape):
        raise InputError(f"{path}: the .npy header declares shape {shorten(shape)}; dimensions "
                         "must be whole numbers >= 0")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed != size - offset:
        raise InputError(f"{path}: the .npy header declares shape {shorten(shape)} of {dtype} "
                         f"({claimed} bytes) but {size - offset} bytes follow it; the file is "
                         "truncated or corrupt")


def load_descriptor_array(path):
    """Load an n x d descriptor array from .pickle/.pkl, .npy or .parquet.

    Parameters
    ----------
    path : str or Path
        ``.pickle``/``.pkl``: a pickled numpy array (restricted unpickler);
        ``.npy``: loaded memory-mapped with ``allow_pickle=False``;
        ``.parquet``: either one fixed-size-list column, or all-numeric columns
        (one per dimension), read within a memory budget (:mod:`descluster.parquetfile`).

    Returns
    -------
    ndarray
        Not yet validated for shape or dtype: see :func:`descluster.ingest.check_descriptor_array`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: descriptor file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: descriptor file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in (".pickle", ".pkl"):
        return load_pickled_array(path)
    if suffix == ".npy":
        _check_npy_header(path)
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OverflowError) as exc:
            raise InputError(f"{path}: not a plain .npy array ({shorten(exc)})") from None
    if suffix == ".parquet":
        return parquetfile.load_array(path)
    raise InputError(
        f"{path}: unknown descriptor format '{suffix}', expected .pickle, .pkl, .npy or .parquet"
    )


def load_descriptor_paths(path):
    """The image paths a descriptor file lists itself, or None.

    Parameters
    ----------
    path : str or Path
        A descriptor file (see :func:`load_descriptor_array`).

    Returns
    -------
    list of str (None for a missing entry), or None
        The ``paths`` column of a Parquet file, in row order
        (:func:`descluster.parquetfile.load_paths`); None for other formats and for Parquet
        files without that column (their rows match by position).
    """
    if Path(path).suffix.lower() != ".parquet":
        return None
    return parquetfile.load_paths(path)


def partial_path(path):
    """Return the temporary sibling an output is written to before it is renamed.

    The suffix is kept so that libraries that choose a format by extension
    (numpy, matplotlib) write the right one.
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):  # no such process id
        return False
    return pid > 0


def remove_stale_partials(path):
    """Remove the temporary siblings of ``path`` left by writers that were killed.

    A leftover is ``.{stem}.partial-{pid}{suffix}`` (see :func:`partial_path`) whose
    process no longer exists; one whose process still runs is kept. Snakemake never
    runs two jobs for one output at once, so no live writer's file is removed.

    Returns
    -------
    list of Path
        The files and folders removed.
    """
    path = Path(path)
    prefix, suffix = f".{path.stem}.partial-", path.suffix
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        name = entry.name
        pid = name[len(prefix):len(name) - len(suffix)]
        if (not name.startswith(prefix) or not name.endswith(suffix) or not pid.isdigit()
                or _process_exists(int(pid))):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
        removed.append(Path(entry.path))
        log.info("removed %s, left by process %s that no longer runs", entry.path, pid)
    return removed


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path; rename it to ``path`` only if the block succeeds.

    An interrupted or failed step therefore never leaves a half-written file
    under its final name; what a killed step left is removed the next time the
    output is written (:func:`remove_stale_partials`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _format_cell(value, sep="\t"):
    if value is None:
        return ""
    if isinstance(value, float):
        return "%.6g" % value if value == value else ""  # NaN as an empty cell, as pandas writes it
    return _quoted(str(value), sep)


# what ends a row for some reader: pandas quotes tab, \n and '"' itself, but not a lone \r
# (which its own reader takes for a line end) nor the breaks str.splitlines knows
_BREAKS_ROW = re.compile(r'[\t\n\r"\x0b\x0c\x1c-\x1e\x85\u2028\u2029]')
_PANDAS_MISSES = re.compile(r"[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _quoted(text, sep="\t"):
    """A field: double-quoted (quotes doubled) when it holds the separator or what would
    break a row."""
    return '"' + text.replace('"', '""') + '"' if sep in text or _BREAKS_ROW.search(text) else text


def write_rows(rows, columns, path, sep="\t"):
    """Write dict rows as TSV with the formatting of :func:`write_table`, without pandas."""
    lines = [sep.join(_quoted(str(c), sep) for c in columns)]
    lines += [sep.join(_format_cell(row[c], sep) for c in columns) for row in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")


@contextlib.contextmanager
def atomic_directory(path):
    """Yield an empty temporary folder; it replaces ``path`` only if the block succeeds.

    Folders left by killed steps are removed first, as in :func:`atomic_output`.
    """
    path = Path(path)
    remove_stale_partials(path)
    staging = partial_path(path)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        shutil.rmtree(path, ignore_errors=True)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_text_atomic(path, text):
    """Write a text file atomically (UTF-8)."""
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_table(frame, path, sep="\t"):
    """Write a DataFrame as a delimited text table (TSV by default), atomically, floats to 6 digits.

    A field holding the separator, a line break or a quote is double-quoted, so every row
    stays one line: pandas quotes the separator, ``\\n`` and quotes itself; a table with any
    other line break (a lone ``\\r``, U+2028...) is written by :func:`write_rows`.
    """
    texts = [frame[c] for c in frame.columns if frame[c].dtype.kind not in "biufcmM"]
    if any(_PANDAS_MISSES.search(str(c)) for c in frame.columns) or any(
            text.astype(str).str.contains(_PANDAS_MISSES).any() for text in texts):
        write_rows(frame.to_dict("records"), list(frame.columns), path, sep)
        return
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=sep, index=False, float_format="%.6g", lineterminator="\n")
    write_text_atomic(path, buffer.getvalue())


def save_npy_atomic(path, array):
    """Save one array as .npy atomically."""
    with atomic_output(path) as tmp:
        np.save(tmp, array, allow_pickle=False)
