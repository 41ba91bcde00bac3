"""Ingest: check the paths file and descriptor arrays, store them for the later steps."""

import logging
import math
import re

import numpy as np
import pandas as pd

from descluster import labelfile
from descluster.errors import InputError, shorten
from descluster.files import atomic_output
from descluster.labelfile import normalise_path  # the one spelling rule (label files too)

log = logging.getLogger(__name__)

_CHUNK_ROWS = 32768
_MAX_LISTED = 5
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _list_rows(rows):
    """Format row numbers for an error message: the first few and how many in all."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else ""
    return f"{shown}{more}"


def _first_non_utf8_line(path):
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def paths_file_rows(path, source_label="images.paths"):
    """Rows of a paths CSV (lines after the header), for the config check and for ingest alike.

    One line is one row: a file where that does not hold is refused here, so the count
    the config is checked against is the count ingest reads. Refused: line ends other than
    ``\n`` and ``\r\n`` (a lone ``\r``), empty lines, and a quoted field that runs on to
    the next line (an image path holds no line break).

    Returns
    -------
    int

    Raises
    ------
    InputError
        ``<path>, line N: ...``, or ``<path>: ...`` for a missing or empty file.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: {source_label} file not found") from None
    if not data.strip():
        raise InputError(f"{path}: file is empty; expected a CSV with a 'paths' column")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if data.count(b"\r") != data.count(b"\r\n"):
        number = data[:_lone_cr(data)].count(b"\n") + 1
        raise InputError(f"{path}, line {number}: a carriage return (\\r) that does not end a "
                         "\\r\\n pair; lines end in \\n or \\r\\n")
    quoted = b'"' in data
    for number, line in enumerate(lines, start=1):
        if line in (b"", b"\r"):
            raise InputError(f"{path}, line {number}: empty line; every line after the header "
                             "names one image")
        if quoted and line.count(b'"') % 2:
            raise InputError(f"{path}, line {number}: a quoted field runs on to the next line "
                             "(or its quotes are unbalanced); an image path holds no line break")
    return len(lines) - 1


def _lone_cr(data):
    """Byte offset of the first \\r not followed by \\n."""
    at = data.find(b"\r")
    while data[at + 1:at + 2] == b"\n":
        at = data.find(b"\r", at + 1)
    return at


# a path, once its backslashes are slashes, that normalise_path changes further: an empty
# or '.' part, a trailing '/', or nothing at all; it holds one of the signs in the text of
# all rows framed by line feeds (the signs are found at C speed, the pattern is not)
_NOT_NORMAL = re.compile(r"//|(?:^|/)\.(?:/|$)|/$|^$", re.MULTILINE)
_NOT_NORMAL_SIGNS = ("//", "/.", "\n.", "/\n", "\n\n")


def _rows_matching(pattern, text, starts):
    """Indices (ascending) of the rows where ``pattern`` matches in ``text``, the rows
    joined by line feeds (none in a row), row i starting at ``starts[i]``: one search over
    all rows instead of one per row."""
    hits = [match.start() for match in pattern.finditer(text)]
    return np.unique(np.searchsorted(starts, hits, side="right") - 1)


def checked_paths(paths, source, first_line=2, what="line"):
    """Refuse image paths a label file could not name exactly: empty, with outer spaces,
    or holding a character label files refuse (control characters, line and paragraph
    separators, direction overrides; :mod:`descluster.labelfile`); return them normalised
    (:func:`normalise_path`).

    Parameters
    ----------
    paths : pandas Series of str
        As written, in row order.
    source : str
        File name for error messages.
    first_line : int
        Line (or row) number of the first path.
    what : str
        What a position is called in messages ('line', 'row').

    Returns
    -------
    pandas Series of str (object), the normalised paths, index 0..n-1.
    """
    rules = labelfile.rules()
    written = paths.tolist()
    zero_based = " (0-based)" if first_line == 0 else ""

    def refuse(bad, problem):
        raise InputError(f"{source}: the path on {what}(s) {_list_rows(np.asarray(bad) + first_line)}"
                         f"{zero_based} {problem} (e.g. {shorten(repr(written[bad[0]]))})")

    # the whole column is searched at once (416,314 rows: 1 s per row-by-row pass)
    if rules.forbidden.search("".join(written)):
        refuse([row for row, path in enumerate(written) if rules.forbidden.search(path)],
               "holds a control character, a line or paragraph separator or a direction override")
    text = "\n".join(written)  # one row per line: line feeds were refused just above
    starts = np.cumsum([0, *(len(path) + 1 for path in written)])
    ends = {path[:1] for path in written} | {path[-1:] for path in written}
    if any(rules.edgeSpace.search(char) for char in ends):
        refuse(_rows_matching(re.compile(rules.edgeSpace.pattern, re.MULTILINE), text, starts),
               "starts or ends with a space; one path, one image: paths are taken exactly as "
               "written")
    unified = text.replace("\\", "/")  # as normalise_path does first; lengths unchanged
    normalised = unified.split("\n")
    framed = f"\n{unified}\n"
    changed = (_rows_matching(_NOT_NORMAL, unified, starts)
               if any(sign in framed for sign in _NOT_NORMAL_SIGNS) else [])
    for row in changed:
        normalised[row] = normalise_path(written[row])
    empty = [row for row in changed if normalised[row] == ""]
    if empty:
        raise InputError(f"{source}: empty path on {what}(s) "
                         f"{_list_rows(np.asarray(empty) + first_line)}{zero_based}")
    return pd.Series(normalised, dtype=object)


def read_paths_table(path, source_label="images.paths"):
    """Read and check a CSV whose column 'paths' names one image per row.

    Parameters
    ----------
    path : str or Path
        UTF-8 CSV with a column ``paths`` (other columns are kept), one row per line
        (:func:`paths_file_rows`).

    Returns
    -------
    DataFrame
        Column ``paths`` normalised to forward slashes, ``path_original`` as written,
        then the file's other columns as strings (missing values as empty strings).
        Line numbers in errors count the header as line 1.
    """
    n_rows = paths_file_rows(path, source_label)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                          encoding_errors="strict", header=None, skip_blank_lines=False)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text (first bad byte on line "
                         f"{_first_non_utf8_line(path)}); save the file as UTF-8") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable CSV ({shorten(str(exc))})") from None
    header = raw.iloc[0].fillna("").tolist()
    frame = raw.iloc[1:].fillna("").reset_index(drop=True)
    repeated = next((name for i, name in enumerate(header) if name in header[:i]), None)
    if repeated is not None:
        raise InputError(f"{path}, line 1: column {shorten(repr(repeated))} appears twice")
    frame.columns = header
    if "paths" not in frame.columns:
        raise InputError(
            f"{path}: no column 'paths' (found {header[:5]}); expected a header line 'paths'"
        )
    if len(frame) == 0:
        raise InputError(f"{path}: no rows under the 'paths' header")
    if len(frame) != n_rows:  # cannot happen for a file paths_file_rows passed; checked anyway
        raise InputError(f"{path}: read as {len(frame)} rows but it has {n_rows} lines after "
                         "the header; write one image per line")
    original = frame["paths"]
    normalised = checked_paths(original, path)
    duplicated = np.flatnonzero(normalised.duplicated(keep=False).to_numpy())
    if duplicated.size:
        raise InputError(
            f"{path}: duplicate paths on line(s) {_list_rows(duplicated + 2)} "
            f"(e.g. {shorten(repr(original.iloc[duplicated[0]]))}); every image must be "
            "listed once (spellings of one file such as a\\b and ./a/b count as the same)"
        )
    others = frame.drop(columns=["paths"])
    result = pd.DataFrame({"paths": normalised, "path_original": original})
    return pd.concat([result, others], axis=1)


def value_limit(n_cols):
    """Largest absolute value accepted in a descriptor of ``n_cols`` columns.

    Below it, the squared distance between any two rows, centred or projected, stays
    within float32 range (``16 * n_cols * limit**2`` is float32's largest value), so
    k-means distances cannot overflow. About 4.6e18 for one column, 9e16 for 2560.
    """
    return math.sqrt(_FLOAT32_MAX / n_cols) / 4


# Below this largest value, products of two values fall short of float32's smallest normal
# number (1.2e-38) by a margin: the covariance PCA would sum zeros and subnormals.
SMALLEST_SCALE = 1e-16


def rescale_factor(scale):
    """A power of ten that brings values of magnitude ``scale`` to about 1."""
    return 10.0 ** -math.floor(math.log10(scale))


def check_descriptor_array(array, source, n_paths, chunk_rows=65536):
    """Check an n x d descriptor array before it is converted.

    Parameters
    ----------
    array : ndarray
        Float, signed or unsigned integer, or bool; checked in row chunks so that no
        full-size temporary is made. Dates, durations, complex numbers, strings and
        objects are refused.
    source : str
        File name for error messages.
    n_paths : int
        Rows of the paths file: the array must have exactly this many rows.

    Raises InputError naming the rows that hold NaN or inf, values whose squares overflow
    float32 (beyond :func:`value_limit`), when every value is below :data:`SMALLEST_SCALE`
    (their products underflow float32: rescale), or when every row is the same vector.
    """
    if array.ndim != 2:
        raise InputError(
            f"{source}: array has {array.ndim} dimension(s) {array.shape}; expected a 2-D n x d array"
        )
    if array.dtype.kind not in "biuf":
        raise InputError(
            f"{source}: array dtype is {array.dtype}; expected numbers (float, signed or "
            "unsigned integer, or bool)"
        )
    n_rows, n_cols = array.shape
    if n_rows == 0:
        raise InputError(f"{source}: array has zero rows")
    if n_cols == 0:
        raise InputError(f"{source}: array has zero columns")
    if n_rows != n_paths:
        raise InputError(
            f"{source}: {n_rows} rows, but the paths file lists {n_paths} images; "
            "row i of every descriptor file must describe image i"
        )
    limit = value_limit(n_cols)
    non_finite, too_large, largest = [], [], 0.0
    first = array[0].copy()
    varies = False
    for start in range(0, n_rows, chunk_rows):
        chunk = array[start:start + chunk_rows]
        varies = varies or bool((chunk != first).any())
        if array.dtype.kind == "b":
            continue
        if array.dtype.kind == "f":  # integers are always finite in float32
            with np.errstate(over="ignore"):  # overflow to inf is what is being looked for
                chunk = np.asarray(chunk, dtype=np.float32)
            non_finite.append(np.flatnonzero(~np.isfinite(chunk).all(axis=1)) + start)
        with np.errstate(invalid="ignore"):  # NaN rows are reported above
            highest, lowest = chunk.max(axis=1), chunk.min(axis=1)
            large = (highest > limit) | (lowest < -limit)
            largest = max(largest, float(np.nanmax(np.maximum(np.abs(highest), np.abs(lowest)))))
        too_large.append(np.flatnonzero(large) + start)
    non_finite = np.concatenate(non_finite) if non_finite else []
    too_large = np.concatenate(too_large) if too_large else []
    if len(non_finite):
        raise InputError(
            f"{source}: NaN, inf or values beyond float32 range in row(s) "
            f"{_list_rows(non_finite)} (0-based)"
        )
    if len(too_large):
        raise InputError(
            f"{source}: values beyond +-{limit:.3g} in row(s) {_list_rows(too_large)} (0-based): "
            f"with {n_cols} columns their squared distances overflow float32; scale the "
            "descriptors down"
        )
    if array.dtype.kind == "f" and 0 < largest < SMALLEST_SCALE:
        raise InputError(
            f"{source}: the largest absolute value is {largest:.3g}: so small that the products "
            f"PCA sums underflow float32 (below {SMALLEST_SCALE:g}); rescale the descriptors "
            f"(multiply them by a constant, e.g. {rescale_factor(largest):g})")
    if not varies:
        raise InputError(
            f"{source}: all {n_rows} rows are the same vector (e.g. all zeros); PCA and "
            "clustering need rows that differ"
        )


def match_rows(file_paths, paths, source):
    """Row order of a descriptor file that lists its own image paths, against the paths file.

    Parameters
    ----------
    file_paths : sequence of str (None for a missing entry), or None
        The file's own ``paths`` column; None when it has none (rows then match by
        position, as documented for pickles and .npy files).
    paths : sequence of str
        The normalised paths of images.paths, as many as ``file_paths``.
    source : str
        File name for error messages.

    Returns
    -------
    ndarray of int, or None
        None when the file is in the paths file's order; else ``order`` such that row
        ``order[i]`` of the file describes ``paths[i]``. Any other difference (missing,
        extra or repeated paths) raises InputError naming the first rows that differ.
    """
    if file_paths is None:
        return None
    written = pd.Series(file_paths, dtype=object).fillna("")
    mine = checked_paths(written, f"{source} (its 'paths' column)", first_line=0, what="row")
    expected = pd.Series(paths, dtype=object).reset_index(drop=True)
    differ = np.flatnonzero(mine.to_numpy() != expected.to_numpy())
    if differ.size == 0:
        return None
    if mine.is_unique:
        order = pd.Index(mine).get_indexer(expected)
        if (order >= 0).all():
            log.info("ingest: %s lists the images in another order; rows reordered to images.paths",
                     source)
            return order
        missing = expected[order < 0]
        reason = (f"{len(missing)} image(s) of images.paths are not in it, e.g. "
                  f"{shorten(repr(missing.iloc[0]))}")
    else:
        reason = f"it lists {shorten(repr(mine[mine.duplicated()].iloc[0]))} more than once"
    first = differ[0]
    raise InputError(
        f"{source}: its 'paths' column does not match images.paths in row(s) "
        f"{_list_rows(differ)} (0-based; row {first} is {shorten(repr(mine[first]))} here but "
        f"{shorten(repr(expected[first]))} in images.paths), and not by order alone: {reason}"
    )


def write_descriptor_npy(array, out_path, chunk_rows=_CHUNK_ROWS, row_order=None):
    """Write descriptors as a .npy file of float32, shape (n, d), in the paths file's row order.

    A plain array, not Parquet: the PCA steps read it at disk speed (416,314 x 2560: 2 s
    against 12 s of Parquet's list decoding) and its writing costs no encoding either.

    Parameters
    ----------
    array : ndarray of shape (n, d)
        Already checked; cast to float32 ``chunk_rows`` rows at a time, so memory is the
        input array plus one chunk.
    row_order : ndarray of int of shape (n,), optional
        Row ``row_order[i]`` of ``array`` is written as row i (see :func:`match_rows`).
    """
    n_rows, n_cols = array.shape
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
              "fortran_order": False, "shape": (n_rows, n_cols)}
    with atomic_output(out_path) as tmp, open(tmp, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for start in range(0, n_rows, chunk_rows):
            rows = (slice(start, start + chunk_rows) if row_order is None
                    else row_order[start:start + chunk_rows])
            np.ascontiguousarray(array[rows], dtype=np.float32).tofile(handle)
            log.info("ingest: wrote rows %d-%d of %d", start,
                     min(start + chunk_rows, n_rows) - 1, n_rows)


def descriptor_shape(npy_path):
    """(n_rows, n_cols) of an ingested descriptor file, from its header only."""
    return np.load(npy_path, mmap_mode="r").shape


def iter_descriptor_batches(npy_path, batch_rows):
    """Stream an ingested descriptor file as float32 arrays of shape (<= batch_rows, d).

    Read with plain file reads, not through a memory map: mapped pages count in a job's
    resident memory, which would grow to the whole file (4.26 GB for 2560 columns).
    """
    header = np.load(npy_path, mmap_mode="r")  # the shape and where the data starts; no data read
    n_rows, n_cols = header.shape
    with open(npy_path, "rb") as handle:
        handle.seek(header.offset)
        for start in range(0, n_rows, batch_rows):
            rows = min(batch_rows, n_rows - start)
            yield np.fromfile(handle, dtype=np.float32, count=rows * n_cols).reshape(rows, n_cols)
