"""Reading a user's Parquet descriptor file within a memory budget.

A Parquet file says in three places how much it decodes to, and Arrow trusts each of them
without comparing them: the footer (rows of each row group), each page's header (its
uncompressed size, its number of values) and the schema (the width of a fixed-size list).
A small file can lie in any of them and make Arrow allocate gigabytes. So before Arrow
reads a column, every page header of it is read here (Thrift compact protocol, the
fields Arrow sizes its buffers by) and all three counts are held to
``MAX_EXPANSION`` times the file's size; the footer itself is parsed with Thrift's
container and string limits no larger than the file.
"""

from pathlib import Path

import numpy as np

from descluster.errors import InputError, shorten

# Honest descriptor files decode to at most ~25x their Parquet size (SURF bag-of-words
# histograms, 87 % zeros, gzip: measured on office-dslr/webcam); far beyond that, a small
# file is claiming memory it does not hold.
MAX_EXPANSION = 128
_PAGE_HEADER_MAX = 16 * 2 ** 20  # Arrow's own limit on a page header
_THRIFT_DEPTH = 16
_PATH_ROW_BYTES = 64  # a Python str and its list slot, per path, beyond its characters
_DATA_PAGES = (0, 3)  # DATA_PAGE, DATA_PAGE_V2 (2 is the dictionary page)


class _Corrupt(Exception):
    """A page header that cannot be read (out of its bytes, nested too deep, bad type)."""


class _Compact:
    """Thrift compact protocol reader over ``data``, reading just what a page header needs."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise _Corrupt
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def _varint(self):
        result = shift = 0
        while True:
            byte = self._take(1)[0]
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise _Corrupt

    def _zigzag(self):
        value = self._varint()
        return (value >> 1) ^ -(value & 1)

    def struct(self, depth=0):
        """{field id: value} of a struct: integers and nested structs; other values skipped."""
        if depth > _THRIFT_DEPTH:
            raise _Corrupt
        fields, field_id = {}, 0
        while True:
            head = self._take(1)[0]
            kind = head & 0x0F
            if kind == 0:
                return fields
            field_id = field_id + (head >> 4) if head >> 4 else self._zigzag()
            fields[field_id] = self._value(kind, depth)

    def _value(self, kind, depth):
        if kind in (1, 2):  # booleans: the type is the value
            return kind == 1
        if kind == 3:
            return self._take(1)[0]
        if kind in (4, 5, 6):
            return self._zigzag()
        if kind == 7:
            self._take(8)
        elif kind == 8:
            self._take(self._varint())
        elif kind in (9, 10):  # list, set: every element takes at least one byte
            head = self._take(1)[0]
            size = head >> 4 if head >> 4 != 15 else self._varint()
            element = 3 if head & 0x0F in (1, 2) else head & 0x0F  # a boolean element is a byte
            for _ in range(size):
                self._value(element, depth + 1)
        elif kind == 11:
            size = self._varint()
            kinds = self._take(1)[0] if size else 0
            for _ in range(size):
                self._value(kinds >> 4, depth + 1)
                self._value(kinds & 0x0F, depth + 1)
        elif kind == 12:
            return self.struct(depth + 1)
        else:
            raise _Corrupt
        return None


def _page_header(handle, offset, end):
    """(header bytes, page type, uncompressed size, compressed size, number of values)."""
    window = 1024
    while True:
        handle.seek(offset)
        data = handle.read(min(window, end - offset))
        reader = _Compact(data)
        try:
            header = reader.struct()
            break
        except _Corrupt:  # broken, or longer than the window: read more, up to Arrow's limit
            if window >= _PAGE_HEADER_MAX or offset + len(data) >= end:
                raise
            window *= 4
    kind, uncompressed, compressed = header.get(1), header.get(2), header.get(3)
    # num_values of the data page (field 5), dictionary page (7) or data page v2 (8)
    sub = header.get({0: 5, 2: 7, 3: 8}.get(kind, -1))
    n_values = sub.get(1, 0) if isinstance(sub, dict) else 0
    if not all(isinstance(v, int) and v >= 0 for v in (uncompressed, compressed, n_values)):
        raise _Corrupt
    return reader.pos, kind, uncompressed, compressed, n_values


def page_headers(path, parquet, columns):
    """Every page header of ``columns``, in file order, read without decompressing anything.

    Parameters
    ----------
    parquet : pyarrow.parquet.ParquetFile
        Opened with :func:`open_parquet`.
    columns : sequence of str
        Top-level column names; every leaf column under them counts.

    Yields
    ------
    (row group, column chunk, header bytes, page type, uncompressed bytes, compressed
    bytes, number of values) : tuple of int
        Page type 0 and 3 are data pages, 2 a dictionary page. Each column chunk is
        walked over exactly the bytes the footer gives it, which are all Arrow reads.
    """
    metadata = parquet.metadata
    wanted = set(columns)
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema.split(".")[0] not in wanted:
                    continue
                start = chunk.data_page_offset
                if chunk.has_dictionary_page and 0 < (chunk.dictionary_page_offset or 0) < start:
                    start = chunk.dictionary_page_offset
                end = start + chunk.total_compressed_size
                where = f"column {shorten(chunk.path_in_schema)}, row group {g}"
                if start < 0 or end > size:
                    raise InputError(f"{path}: {where} lies outside the file; not a readable "
                                     "Parquet file")
                offset = start
                while offset < end:
                    try:
                        header = _page_header(handle, offset, end)
                    except _Corrupt:
                        raise InputError(f"{path}: unreadable page header at byte {offset} ({where}); "
                                         "not a readable Parquet file") from None
                    yield (g, c, *header)
                    offset += header[0] + header[3]


def declared_sizes(path, parquet, columns):
    """(uncompressed bytes, data values) the pages of ``columns`` declare in all (see
    :func:`page_headers`): what Arrow allocates to decompress them and what it decodes."""
    uncompressed = n_values = 0
    for _, _, _, kind, page_bytes, _, values in page_headers(path, parquet, columns):
        uncompressed += page_bytes
        n_values += values if kind in _DATA_PAGES else 0
    return uncompressed, n_values


def check_expansion(path, decoded_bytes, what):
    """Refuse a file whose ``what`` would decode to over MAX_EXPANSION x its size."""
    size = Path(path).stat().st_size
    if decoded_bytes > MAX_EXPANSION * size:
        raise InputError(
            f"{path}: its {what} would decode to {decoded_bytes / 2**20:.1f} MiB from "
            f"{size / 2**20:.3f} MiB on disk (over {MAX_EXPANSION}x); refused as a "
            "decompression bomb. If the data is real, save it as .npy (read memory-mapped)"
        )


def _arrow_errors():
    import pyarrow as pa

    return (pa.ArrowException, OSError, UnicodeDecodeError, KeyError, ValueError)


def open_parquet(path, read_dictionary=None):
    """``pyarrow.parquet.ParquetFile`` of ``path``, its footer parsed with Thrift limits no
    larger than the file (a list or string cannot hold more items than bytes); an unreadable
    file is one InputError."""
    import pyarrow.parquet as pq

    size = Path(path).stat().st_size
    try:
        return pq.ParquetFile(path, read_dictionary=read_dictionary,
                              thrift_container_size_limit=max(1, min(size, 1_000_000)),
                              thrift_string_size_limit=max(1, min(size, 100_000_000)))
    except _arrow_errors() as exc:
        raise InputError(f"{path}: not a readable Parquet file ({shorten(exc)})") from None


def read_columns(path, parquet, columns):
    """``columns`` of an opened file as a Table; an unreadable file is one InputError."""
    try:
        return parquet.read(columns=columns)
    except _arrow_errors() as exc:
        raise InputError(f"{path}: not a readable Parquet file ({shorten(exc)})") from None


def row_count(path, parquet):
    """Rows the reader will decode: the sum over row groups (the footer's own total is not
    what Arrow follows), which must agree with the footer and not be negative."""
    metadata = parquet.metadata
    rows = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    if any(r < 0 for r in rows) or sum(rows) != metadata.num_rows:
        raise InputError(f"{path}: its footer says {metadata.num_rows} rows but its row groups "
                         f"hold {sum(rows)}; not a readable Parquet file")
    return sum(rows)


def _number_bytes(data_type):
    """Bytes per value numpy will hold for an Arrow number type, or None for other types."""
    import pyarrow as pa

    if pa.types.is_boolean(data_type):
        return 1
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return data_type.bit_width // 8
    return None


def _vector_columns(path, schema):
    """Columns holding the descriptor of a Parquet ``schema``: (names, bytes of one value,
    values per row). One fixed-size-list column of numbers, else every numeric column but
    ``paths``, all of one width; any other column is refused before anything is read."""
    import pyarrow as pa

    if len(set(schema.names)) != len(schema.names):
        twice = sorted({n for n in schema.names if schema.names.count(n) > 1})
        raise InputError(f"{path}: column {shorten(repr(twice[0]))} appears more than once")
    lists = [f for f in schema if pa.types.is_fixed_size_list(f.type)]
    if len(lists) == 1:
        field = lists[0]
        value_bytes = _number_bytes(field.type.value_type)
        if value_bytes is None or field.type.list_size < 1:
            raise InputError(f"{path}: column {shorten(repr(field.name))} holds "
                             f"{shorten(field.type)}, expected lists of at least one number")
        return [field.name], value_bytes, field.type.list_size
    fields = [f for f in schema if f.name != "paths"]
    others = [f.name for f in fields if _number_bytes(f.type) is None]
    if others:
        raise InputError(
            f"{path}: expected one fixed-size-list column or only numeric columns, "
            f"found non-numeric columns {shorten(others[:5])}"
        )
    return [f.name for f in fields], max((_number_bytes(f.type) for f in fields), default=1), len(fields)


def load_array(path):
    """An n x d array from a Parquet descriptor file, within the memory budget.

    Parameters
    ----------
    path : str or Path
        One fixed-size-list column of numbers, or one numeric column per dimension (a
        ``paths`` column aside).

    Returns
    -------
    ndarray of shape (n, d)
        The file's number type (numpy's). Missing values are refused (they would turn
        integers into floats or objects).
    """
    import pyarrow as pa

    parquet = open_parquet(path)
    columns, value_bytes, width = _vector_columns(path, parquet.schema_arrow)
    n_rows = row_count(path, parquet)
    if not columns:
        return np.empty((n_rows, 0))
    uncompressed, n_values = declared_sizes(path, parquet, columns)
    check_expansion(path, n_rows * width * value_bytes, "descriptors")
    check_expansion(path, uncompressed, "pages")
    check_expansion(path, n_values * value_bytes, "page values")
    table = read_columns(path, parquet, columns)
    missing = [c for c in columns if table.column(c).null_count]
    if pa.types.is_fixed_size_list(table.schema.field(0).type):
        column = table.column(0).combine_chunks()
        if missing or column.values.null_count:
            raise InputError(f"{path}: column {shorten(repr(columns[0]))} has missing vectors or values")
        return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    if missing:
        raise InputError(f"{path}: column {shorten(repr(missing[0]))} has missing values")
    return np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in columns])


def load_paths(path):
    """The ``paths`` column of a Parquet descriptor file, or None when it has none.

    Returns
    -------
    list of str (None for a missing entry), or None
        In row order. The column is read dictionary-encoded, after its pages were held to
        the budget, and its decoded length (with a per-row overhead) checked before it
        becomes Python strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = open_parquet(path).schema_arrow
    if "paths" not in schema.names:
        return None
    if schema.names.count("paths") > 1:
        raise InputError(f"{path}: column 'paths' appears more than once")
    stored = schema.field("paths").type
    stored = stored.value_type if pa.types.is_dictionary(stored) else stored  # as Arrow wrote it
    if not (pa.types.is_string(stored) or pa.types.is_large_string(stored)):
        raise InputError(f"{path}: column 'paths' holds {shorten(stored)}, expected image paths (strings)")
    parquet = open_parquet(path, read_dictionary=["paths"])
    n_rows = row_count(path, parquet)
    uncompressed, n_values = declared_sizes(path, parquet, ["paths"])
    check_expansion(path, n_rows * _PATH_ROW_BYTES, "'paths' column")
    check_expansion(path, uncompressed, "pages")
    check_expansion(path, n_values * _PATH_ROW_BYTES, "page values")
    column = read_columns(path, parquet, ["paths"]).column(0).combine_chunks()
    try:
        lengths = pc.binary_length(column.dictionary).take(column.indices)
        decoded = (pc.sum(lengths).as_py() or 0) + len(column) * _PATH_ROW_BYTES
        check_expansion(path, decoded, "'paths' column")
        return column.to_pylist()
    except _arrow_errors() as exc:
        raise InputError(f"{path}: column 'paths' is not readable ({shorten(exc)})") from None
