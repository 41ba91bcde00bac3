"""Rewrite a Parquet file's footer, to make files that lie (tests only).

The footer is Thrift compact protocol. ``decode`` turns it into a list of
``[field id, type, value]`` (value: int, bytes, bool, a list of such lists for a struct,
or ``(element type, [values])`` for a list); ``encode`` writes it back (a list given as
``(element type, [values], n)`` claims n elements, whatever it holds).
"""

BOOL_TRUE, BOOL_FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)


def _varint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _value(data, pos, kind):
    if kind in (BOOL_TRUE, BOOL_FALSE):
        return kind == BOOL_TRUE, pos
    if kind == BYTE:
        return data[pos], pos + 1
    if kind in (I16, I32, I64):
        raw, pos = _varint(data, pos)
        return (raw >> 1) ^ -(raw & 1), pos
    if kind == DOUBLE:
        return data[pos:pos + 8], pos + 8
    if kind == BINARY:
        size, pos = _varint(data, pos)
        return data[pos:pos + size], pos + size
    if kind in (LIST, SET):
        head = data[pos]
        pos += 1
        size, element = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(data, pos)
        values = []
        for _ in range(size):
            value, pos = _value(data, pos, BYTE if element in (BOOL_TRUE, BOOL_FALSE) else element)
            values.append(value)
        return (element, values), pos
    if kind == STRUCT:
        return decode(data, pos)
    raise ValueError(f"type {kind} not used by Parquet footers")


def decode(data, pos=0):
    """A struct at ``pos``: (fields, position after it)."""
    fields, field_id = [], 0
    while True:
        head = data[pos]
        pos += 1
        if head == 0:
            return fields, pos
        kind = head & 0x0F
        if head >> 4:
            field_id += head >> 4
        else:  # the long form: the id follows
            field_id, pos = _value(data, pos, I16)
        value, pos = _value(data, pos, kind)
        fields.append([field_id, kind, value])


def _write_varint(value):
    out = bytearray()
    while True:
        if value < 0x80:
            return bytes(out + bytes([value]))
        out.append(value & 0x7F | 0x80)
        value >>= 7


def _encode_value(kind, value):
    if kind in (BOOL_TRUE, BOOL_FALSE):
        return b""
    if kind == BYTE:
        return bytes([value])
    if kind in (I16, I32, I64):
        return _write_varint((value << 1) ^ (value >> 63))
    if kind == DOUBLE:
        return value
    if kind == BINARY:
        return _write_varint(len(value)) + value
    if kind in (LIST, SET):
        element, values, *claimed = value  # a third item: the size to claim instead
        size = claimed[0] if claimed else len(values)
        head = (bytes([size << 4 | element]) if size < 15
                else bytes([0xF0 | element]) + _write_varint(size))
        return head + b"".join(_encode_value(element, v) for v in values)
    return encode(value)


def encode(fields):
    out, last = bytearray(), 0
    for field_id, kind, value in fields:
        if kind in (BOOL_TRUE, BOOL_FALSE):
            kind = BOOL_TRUE if value else BOOL_FALSE
        delta = field_id - last
        head = (bytes([delta << 4 | kind]) if 0 < delta < 16
                else bytes([kind]) + _encode_value(I16, field_id))
        out += head + _encode_value(kind, value)
        last = field_id
    return bytes(out + b"\x00")


def field(fields, field_id):
    return next(f for f in fields if f[0] == field_id)


def rewrite_footer(path, change):
    """Call ``change(FileMetaData fields)`` and write the footer back in place."""
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    metadata, _ = decode(data, len(data) - 8 - length)
    change(metadata)
    footer = encode(metadata)
    path.write_bytes(data[:-8 - length] + footer + len(footer).to_bytes(4, "little") + b"PAR1")


def set_row_counts(metadata, file_rows=None, group_rows=None, chunk_values=None):
    """Set FileMetaData.num_rows, every RowGroup.num_rows and every ColumnMetaData.num_values."""
    if file_rows is not None:
        field(metadata, 3)[2] = file_rows
    for group in field(metadata, 4)[2][1]:
        if group_rows is not None:
            field(group, 3)[2] = group_rows
        for chunk in field(group, 1)[2][1]:
            if chunk_values is not None:
                field(field(chunk, 3)[2], 5)[2] = chunk_values


def bloat_first_page(path, extra_bytes, codec="zstd"):
    """Append ``extra_bytes`` zero bytes to the first data page of a one-page file, recompressed.

    The page header says the new sizes (so Arrow decompresses all of it) while the footer
    still says one row: a few kilobytes that decompress to ``extra_bytes`` bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = pq.ParquetFile(path).metadata.row_group(0).column(0)
    start, data = chunk.data_page_offset, path.read_bytes()
    header, payload_at = decode(data, start)
    raw = pa.Codec(codec).decompress(data[payload_at:payload_at + field(header, 3)[2]],
                                     decompressed_size=field(header, 2)[2], asbytes=True)
    bloated = pa.Codec(codec).compress(raw + bytes(extra_bytes), asbytes=True)
    field(header, 2)[2], field(header, 3)[2] = len(raw) + extra_bytes, len(bloated)
    page = encode(header) + bloated
    length = int.from_bytes(data[-8:-4], "little")
    metadata, _ = decode(data, len(data) - 8 - length)
    meta = field(field(field(metadata, 4)[2][1][0], 1)[2][1][0], 3)[2]  # ColumnMetaData
    field(meta, 6)[2] = len(page) - len(bloated) + len(raw) + extra_bytes
    field(meta, 7)[2] = len(page)
    footer = encode(metadata)
    path.write_bytes(data[:start] + page + footer + len(footer).to_bytes(4, "little") + b"PAR1")
