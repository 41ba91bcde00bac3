"""Reading a user's Parquet descriptor file within a memory budget.

A Parquet file says in several places how much it decodes to (the rows of its row
groups, each page header's uncompressed size and number of values, the width of a list
type), and Arrow sizes its buffers by each of them without comparing them; its footer
and page headers are Thrift, which Arrow reads in its own way. So a small file can make
Arrow allocate gigabytes, or crash it. Checking every field as Arrow would read it is a
race with Arrow; instead the file is read in a child process (``python -m
descluster.parquetfile``) whose address space is limited to what the footer says the
descriptors take (at most ``MAX_EXPANSION`` times the file's size), what Arrow needs
per value it holds at once, the file's size and a fixed allowance, with a CPU-time
limit. Whatever the pages say, the reader cannot take more, and a crash or a refusal
ends in one line naming the file. The child sends the array back through a pipe in .npy
format, or the paths as JSON.

The limit is Linux's ``RLIMIT_AS``; where it is not enforced (macOS), the footer checks
still apply.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from descluster.errors import InputError, shorten

# Honest descriptor files decode to at most ~25x their Parquet size (SURF bag-of-words
# histograms, 87 % zeros, gzip: measured on office-dslr/webcam); far beyond that, a small
# file is claiming memory it does not hold.
MAX_EXPANSION = 128
# The reader's limit: the array, VALUE_BYTES per value Arrow holds at once (a list
# column's largest row group, or one column), the file's size and ALLOWANCE. Measured peaks
# of honest files, in address space: 4.9 bytes a value for float32 or float64 lists, 8 for
# bool, 13.4 for int8 (decoded through int32, with its levels).
VALUE_BYTES = 16
ALLOWANCE = 64 * 2 ** 20  # the reader's own working memory
# decoded bytes per batch read into the array: a batch may span row groups, beyond what
# the limit counts for one, so it is kept small
BATCH_BYTES = 2 ** 20
CPU_SECONDS = 60  # and one more per 20 MB of file
_PATH_ROW_BYTES = 64  # a Python str and its list slot, per path, beyond its characters
# holding paths costs several copies of their text (Arrow's, Python's, the JSON sent back)
_PATH_COPIES = 4


def _stored_size(path):
    """Bytes the file holds on disk: a sparse file's holes read as zeros but hold nothing."""
    status = Path(path).stat()
    return min(status.st_size, status.st_blocks * 512) if status.st_blocks else status.st_size


def _check_expansion(path, decoded_bytes, what):
    """Refuse a file whose ``what`` would decode to over MAX_EXPANSION x its size."""
    size = _stored_size(path)
    if decoded_bytes > MAX_EXPANSION * size:
        raise InputError(
            f"{path}: its {what} would decode to {decoded_bytes / 2**20:.1f} MiB from "
            f"{size / 2**20:.3f} MiB on disk (over {MAX_EXPANSION}x); refused as a "
            "decompression bomb. If the data is real, save it as .npy (read memory-mapped)"
        )


# --- in the child process --------------------------------------------------------------

def _open(path):
    import pyarrow.parquet as pq

    size = _stored_size(path)
    # a list or string in the footer cannot hold more items than the file has bytes
    return pq.ParquetFile(path, thrift_container_size_limit=max(1, min(size, 1_000_000)),
                          thrift_string_size_limit=max(1, min(size, 100_000_000)),
                          pre_buffer=False)


def _row_count(path, parquet):
    """Rows the reader decodes: the sum over row groups, which must agree with the footer."""
    metadata = parquet.metadata
    rows = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    if any(r < 0 for r in rows) or sum(rows) != metadata.num_rows:
        raise InputError(f"{path}: its footer says {metadata.num_rows} rows but its row groups "
                         f"hold {sum(rows)}; not a readable Parquet file")
    return sum(rows)


def _numpy_dtype(data_type):
    """numpy dtype of an Arrow number type (bool as numpy bool), or None for other types."""
    import pyarrow as pa

    if pa.types.is_boolean(data_type):
        return np.dtype(bool)
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return np.dtype(data_type.to_pandas_dtype())
    return None


def _vector_columns(path, schema):
    """(column names, numpy dtype, values per row) of a descriptor file's schema: one
    fixed-size-list column of numbers, else every numeric column but ``paths``; any other
    column is refused before anything is read."""
    import pyarrow as pa

    if len(set(schema.names)) != len(schema.names):
        twice = sorted({n for n in schema.names if schema.names.count(n) > 1})
        raise InputError(f"{path}: column {shorten(repr(twice[0]))} appears more than once")
    lists = [f for f in schema if pa.types.is_fixed_size_list(f.type)]
    if len(lists) == 1:
        field = lists[0]
        dtype = _numpy_dtype(field.type.value_type)
        if dtype is None or field.type.list_size < 1:
            raise InputError(f"{path}: column {shorten(repr(field.name))} holds "
                             f"{shorten(field.type)}, expected lists of at least one number")
        return [field.name], dtype, field.type.list_size
    fields = [f for f in schema if f.name != "paths"]
    others = [f.name for f in fields if _numpy_dtype(f.type) is None]
    if others:
        raise InputError(
            f"{path}: expected one fixed-size-list column or only numeric columns, "
            f"found non-numeric columns {shorten(others[:5])}"
        )
    dtype = np.result_type(*[_numpy_dtype(f.type) for f in fields]) if fields else np.dtype(np.float64)
    return [f.name for f in fields], dtype, len(fields)


def _numbers(array, path):
    """An Arrow array of numbers as numpy; missing values refused (they would turn integers
    into floats or objects)."""
    if array.null_count:
        raise InputError(f"{path}: it has missing values (a descriptor needs every number)")
    return array.to_numpy(zero_copy_only=False)


def _limit_memory(path, budget):
    """Limit this process to its present address space plus ``budget`` bytes (where the
    system tells its size: Linux) and its CPU time, within the limits it inherited. Soft
    limits only, so that a later call may set the budget the footer allows."""
    import resource

    def limit(kind, value):
        _, hard = resource.getrlimit(kind)
        resource.setrlimit(kind, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))

    limit(resource.RLIMIT_CORE, 0)  # a reader stopped by a limit leaves no core file behind
    limit(resource.RLIMIT_CPU, CPU_SECONDS + Path(path).stat().st_size // (20 * 2 ** 20))
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    except (OSError, StopIteration):
        return
    limit(resource.RLIMIT_AS, size + budget)


def _limit_before_reading(path):
    """The limit while the footer is parsed: what the file may declare at most, and more."""
    _limit_memory(path, MAX_EXPANSION * _stored_size(path) + ALLOWANCE)


def _read_array(path):
    """The descriptors of ``path`` as an (n, d) array, read into place.

    A list column is read batch by batch, a numeric-columns file column by column: Arrow
    then holds one row group of the list, or one column, at a time.
    """
    import pyarrow as pa

    _limit_before_reading(path)
    parquet = _open(path)
    columns, dtype, width = _vector_columns(path, parquet.schema_arrow)
    n_rows = _row_count(path, parquet)
    decoded = n_rows * width * dtype.itemsize
    _check_expansion(path, decoded, "descriptors")
    metadata = parquet.metadata
    is_list = bool(columns) and pa.types.is_fixed_size_list(parquet.schema_arrow.field(columns[0]).type)
    at_once = (max((metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)),
                   default=0) * width if is_list else n_rows)
    _limit_memory(path, decoded + VALUE_BYTES * at_once + _stored_size(path) + ALLOWANCE)
    array = np.empty((n_rows, width), dtype=dtype)
    if not is_list:
        for j, column in enumerate(columns):
            values = _numbers(parquet.read(columns=[column], use_threads=False).column(0)
                              .combine_chunks(), path)
            if len(values) != n_rows:
                raise InputError(f"{path}: column {shorten(repr(column))} holds {len(values)} "
                                 f"rows, its footer {n_rows}; not a readable Parquet file")
            array[:, j] = values
        return array
    done = 0
    batch_size = max(1, BATCH_BYTES // (width * dtype.itemsize))
    for batch in parquet.iter_batches(batch_size=batch_size, columns=columns, use_threads=False):
        vectors = batch.column(0)
        if vectors.null_count:
            raise InputError(f"{path}: it has missing vectors (a descriptor needs every number)")
        rows = _numbers(vectors.flatten(), path).reshape(-1, width)
        if done + len(rows) > n_rows:
            break
        array[done:done + len(rows)] = rows
        done += len(rows)
    if done != n_rows:
        raise InputError(f"{path}: its footer says {n_rows} rows but its pages hold another "
                         "number; not a readable Parquet file")
    return array


def _read_paths(path):
    """The ``paths`` column of ``path`` (None for a missing entry), or None without one."""
    import pyarrow as pa

    _limit_before_reading(path)
    parquet = _open(path)
    schema = parquet.schema_arrow
    if "paths" not in schema.names:
        return None
    if schema.names.count("paths") > 1:
        raise InputError(f"{path}: column 'paths' appears more than once")
    stored = schema.field("paths").type
    stored = stored.value_type if pa.types.is_dictionary(stored) else stored  # as Arrow wrote it
    if not (pa.types.is_string(stored) or pa.types.is_large_string(stored)):
        raise InputError(f"{path}: column 'paths' holds {shorten(stored)}, expected image paths (strings)")
    n_rows = _row_count(path, parquet)
    _check_expansion(path, n_rows * _PATH_ROW_BYTES, "'paths' column")
    _limit_memory(path, _PATH_COPIES * (_PATH_ROW_BYTES * n_rows + MAX_EXPANSION * _stored_size(path))
                  + ALLOWANCE)
    return parquet.read(columns=["paths"], use_threads=False).column(0).to_pylist()


class _Stream:
    """A pipe as numpy sees a stream that is not a file: read or written in chunks (numpy's
    file path asks a pipe for its position)."""

    def __init__(self, pipe):
        self.pipe = pipe

    def read(self, n=-1):
        return self.pipe.read(n)

    def write(self, data):
        return self.pipe.write(data)


def _child(kind, path, result_fd):
    """Entry of the child process: write the result to ``result_fd`` (nothing else writes
    there), or one error line to stderr.

    Exit 0 with the result; 2 with an InputError's message; 3 when memory ran out.
    """
    import pyarrow as pa

    pa.set_cpu_count(1)  # no thread pool: its stacks would count against the limit
    pa.set_io_thread_count(1)
    try:
        with os.fdopen(result_fd, "wb") as out:
            if kind == "array":
                np.lib.format.write_array(_Stream(out), _read_array(path), allow_pickle=False)
            else:
                out.write(json.dumps(_read_paths(path)).encode("utf-8"))
    except InputError as exc:
        sys.stderr.write(str(exc))
        sys.exit(2)
    except (MemoryError, pa.ArrowMemoryError):
        sys.exit(3)
    except (pa.ArrowException, OSError, UnicodeDecodeError, KeyError, ValueError) as exc:
        sys.stderr.write(f"{path}: not a readable Parquet file ({shorten(exc)})")
        sys.exit(2)


# --- in the calling process ------------------------------------------------------------

def _run_child(kind, path, read_result):
    """Run the reader on ``path`` (``kind`` ``array`` or ``paths``); ``read_result(pipe)``
    reads what it sends. Returns that, or raises one InputError naming the file."""
    path = Path(path)
    if not path.is_file():  # a FIFO or device would block the reader without using CPU
        raise InputError(f"{path}: not a regular file")
    wall_seconds = 3 * (CPU_SECONDS + path.stat().st_size // (20 * 2 ** 20))
    result_read, result_write = os.pipe()
    with tempfile.TemporaryFile() as errors, os.fdopen(result_read, "rb") as results:
        try:
            child = subprocess.Popen(  # noqa: S603 - our module; the path is an argument, no shell
                # -P: the working directory does not come first on the child's module path
                [sys.executable, "-P", "-m", "descluster.parquetfile", kind, str(path),
                 str(result_write)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                pass_fds=(result_write,),
                # the system allocator asks the kernel for what it uses, so the address-space
                # limit sees it; mimalloc and jemalloc reserve arenas ahead, which it would not
                env={**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"})
        finally:
            os.close(result_write)
        timer = threading.Timer(wall_seconds, child.kill)
        timer.start()
        try:
            result = read_result(results)
        except (ValueError, OSError, EOFError):
            result = None  # the child ended without a result: its exit says why
        finally:
            code = child.wait()
            timer.cancel()
        errors.seek(max(0, errors.seek(0, os.SEEK_END) - 4000))  # ours is at the end
        lines = errors.read().decode("utf-8", "replace").splitlines()
        message = shorten(lines[-1], 400) if lines else ""
    if code == 0 and result is not None:
        return result
    if code == 2 and message:
        raise InputError(message)
    if code == 3:
        raise InputError(
            f"{path}: reading it needed more memory than its footer declares (what it says "
            f"it holds, at most {MAX_EXPANSION}x its size, {VALUE_BYTES} bytes a value for the "
            f"reader, and {ALLOWANCE // 2**20} MiB); refused as a decompression bomb or a "
            "corrupt file. If the data is real, save it as .npy")
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        raise InputError(f"{path}: reading it took too long; not a readable Parquet file")
    reason = (f"signal {-code}" if code < 0 else f"exit status {code}" if code
              else "no result")
    raise InputError(f"{path}: the Parquet reader stopped on it ({reason}"
                     f"{': ' + message if message else ''}); not a readable Parquet file")


def load_array(path):
    """An n x d array from a Parquet descriptor file, read within the memory budget.

    Parameters
    ----------
    path : str or Path
        One fixed-size-list column of numbers, or one numeric column per dimension (a
        ``paths`` column aside).

    Returns
    -------
    ndarray of shape (n, d)
        The file's number type; missing values are refused (they would turn integers
        into floats or objects).
    """
    return _run_child("array", path, lambda pipe: np.lib.format.read_array(
        _Stream(pipe), allow_pickle=False))


_NO_PATHS = object()  # what the child sent for a file without a paths column


def _read_json(pipe):
    """The paths the child sent: a JSON list (None when the file has no paths column)."""
    paths = json.loads(pipe.read().decode("utf-8"))
    return paths if paths is not None else _NO_PATHS


def load_paths(path):
    """The ``paths`` column of a Parquet descriptor file, in row order (None for a missing
    entry), or None when it has none; read within the memory budget."""
    paths = _run_child("paths", path, _read_json)
    return None if paths is _NO_PATHS else paths


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
