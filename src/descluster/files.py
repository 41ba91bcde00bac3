"""Reading user files safely and writing outputs atomically."""

import contextlib
import io
import os
import pickle
import shutil
from pathlib import Path

import numpy as np

from descluster.errors import InputError

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


def _numpy_global(module, name):
    """Return the object a numpy pickle names, resolving numpy 1.x module names on numpy 2."""
    if module == "_codecs":
        import codecs

        return codecs.encode
    if module == "numpy":
        return getattr(np, name)
    submodule = module.rsplit(".", 1)[1]  # multiarray or numeric
    try:
        mod = __import__(f"numpy._core.{submodule}", fromlist=[name])
    except ImportError:  # numpy < 2
        mod = __import__(f"numpy.core.{submodule}", fromlist=[name])
    return getattr(mod, name)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and refuses every other global."""

    def __init__(self, file, source):
        super().__init__(file)
        self._source = source

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_PICKLE_GLOBALS:
            raise InputError(
                f"{self._source}: refused to load pickle: it names the global "
                f"'{module}.{name}', and only numpy array pickles are accepted"
            )
        return _numpy_global(module, name)

    def persistent_load(self, pid):
        raise InputError(f"{self._source}: refused to load pickle: it uses persistent ids")


def load_pickled_array(path):
    """Load a pickle that holds one numpy array, running no code but numpy's own.

    Parameters
    ----------
    path : str or Path
        A pickle (protocol 2 to 5) of a plain numpy array, written by numpy 1.x or 2.x.

    Returns
    -------
    ndarray
        The array as pickled (any dtype, possibly read-only). Protocols 3 to 5 hold
        one copy of the data in memory; protocol 2 briefly holds about 2.3 copies.
    """
    try:
        with open(path, "rb") as handle:
            obj = _ArrayUnpickler(handle, path).load()
    except InputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, MemoryError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a readable numpy array pickle "
            f"({type(exc).__name__}: {exc}); the file may be truncated or corrupt"
        ) from None
    if not isinstance(obj, np.ndarray):
        raise InputError(
            f"{path}: the pickle holds a {type(obj).__name__}, expected a numpy array"
        )
    return obj


def load_descriptor_array(path):
    """Load an n x d descriptor array from .pickle/.pkl, .npy or .parquet.

    Parameters
    ----------
    path : str or Path
        ``.pickle``/``.pkl``: a pickled numpy array (restricted unpickler);
        ``.npy``: loaded memory-mapped with ``allow_pickle=False``;
        ``.parquet``: either one fixed-size-list column, or all-numeric columns
        (one per dimension).

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
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise InputError(f"{path}: not a plain .npy array ({exc})") from None
    if suffix == ".parquet":
        return _load_parquet_array(path)
    raise InputError(
        f"{path}: unknown descriptor format '{suffix}', expected .pickle, .pkl, .npy or .parquet"
    )


def _load_parquet_array(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    list_columns = [f.name for f in table.schema if pa.types.is_fixed_size_list(f.type)]
    if len(list_columns) == 1:
        column = table.column(list_columns[0]).combine_chunks()
        width = column.type.list_size
        if column.null_count:
            raise InputError(f"{path}: column '{list_columns[0]}' has missing vectors")
        return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    numeric = [f.name for f in table.schema
               if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    others = [f.name for f in table.schema if f.name not in numeric]
    if others and set(others) != {"paths"}:
        raise InputError(
            f"{path}: expected one fixed-size-list column or only numeric columns, "
            f"found non-numeric columns {others[:5]}"
        )
    return np.column_stack(
        [table.column(c).to_numpy(zero_copy_only=False) for c in numeric]
    ) if numeric else np.empty((table.num_rows, 0))


def partial_path(path):
    """Return the temporary sibling an output is written to before it is renamed.

    The suffix is kept so that libraries that choose a format by extension
    (numpy, matplotlib) write the right one.
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path; rename it to ``path`` only if the block succeeds.

    An interrupted or failed step therefore never leaves a half-written file
    under its final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _format_cell(value):
    if isinstance(value, float):
        return "%.6g" % value if value == value else ""  # NaN as an empty cell, as pandas writes it
    return str(value)


def write_rows(rows, columns, path):
    """Write dict rows as TSV with the formatting of :func:`write_table`, without pandas."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_format_cell(row[c]) for c in columns) for row in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")


@contextlib.contextmanager
def atomic_directory(path):
    """Yield an empty temporary folder; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
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
    """Write a DataFrame as a delimited text table (TSV by default), atomically, floats to 6 digits."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=sep, index=False, float_format="%.6g", lineterminator="\n")
    write_text_atomic(path, buffer.getvalue())


def save_npy_atomic(path, array):
    """Save one array as .npy atomically."""
    with atomic_output(path) as tmp:
        np.save(tmp, array, allow_pickle=False)
