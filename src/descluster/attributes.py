"""Ground truth: attribute files (CSV, or VeRi-Wild's vehicle_info.txt) aligned to the images."""

import logging

import numpy as np

from descluster.errors import InputError
from descluster.names import check_name
from descluster.yamlfile import shorten

log = logging.getLogger(__name__)

# VeRi-Wild's vehicle_info.txt: 'id/image;Camera ID;Time;Model;Type;Color', keys 00001/000001
VERIWILD_HEADER = ("id/image", "Camera ID", "Time", "Model", "Type", "Color")
VERIWILD_COLUMNS = {"camera": "Camera ID", "time": "Time", "model": "Model", "type": "Type",
                    "colour": "Color"}
# Columns of the aligned table that are not attributes: 'outlier' marks bad images (it
# measures the outlier scores) and is never ranked or offered as a label field.
NOT_ATTRIBUTES = ("paths", "outlier")
# 'outlier' values that mean a good image, compared stripped and lower-cased (missing too)
NOT_OUTLIER_VALUES = ("", "none", "no", "false", "0")
MAX_UNMATCHED_SHARE = 0.5
MATCH_COLUMNS = ["file", "format", "rows", "rows_matched", "rows_unmatched",
                 "images_without_row", "example_unmatched_row"]


def detect_format(path):
    """'veriwild' when the first line is VeRi-Wild's header, else 'csv'."""
    with open(path, "rb") as handle:
        first = handle.readline(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    return "veriwild" if first.startswith(VERIWILD_HEADER[0] + ";") else "csv"


def image_keys(paths):
    """VeRi-Wild keys of image paths: the last two parts without extension.

    Parameters
    ----------
    paths : pandas Series of str
        Normalised paths (``veriwild/1/00001/000001.jpg``).

    Returns
    -------
    pandas Series of str
        ``00001/000001``; a path of one part gives its stem.
    """
    stems = paths.str.replace(r"\.[^./]*$", "", regex=True)
    return stems.str.extract(r"([^/]*/[^/]*|[^/]*)$", expand=False)


def read_veriwild(path, columns):
    """Read a VeRi-Wild ``vehicle_info.txt``.

    Parameters
    ----------
    path : str or Path
    columns : list of str
        Attributes to keep, names from :data:`VERIWILD_COLUMNS` (``type``, ``colour``...).

    Returns
    -------
    DataFrame
        ``key`` (``00001/000001``) and the chosen columns as stripped strings.
    """
    import pandas as pd

    try:
        with open(path, encoding="utf-8", errors="strict", newline="") as handle:
            lines = handle.read().lstrip("\ufeff").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    header = tuple(field.strip() for field in lines[0].split(";")) if lines else ()
    if header != VERIWILD_HEADER:
        raise InputError(f"{path}: header {shorten(';'.join(header))}; expected "
                         f"{';'.join(VERIWILD_HEADER)!r}")
    rows = [line.split(";") for line in lines[1:] if line.strip()]
    numbers = [n for n, line in enumerate(lines[1:], start=2) if line.strip()]
    bad = next((i for i, fields in enumerate(rows) if len(fields) != len(VERIWILD_HEADER)), None)
    if bad is not None:
        raise InputError(f"{path}, line {numbers[bad]}: expected {len(VERIWILD_HEADER)} fields "
                         f"separated by ';', found {len(rows[bad])}")
    frame = pd.DataFrame(rows, columns=list(VERIWILD_HEADER), dtype=object)
    keys = frame["id/image"].str.strip()
    duplicated = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    if duplicated.size:
        raise InputError(f"{path}, lines {numbers[duplicated[0]]} and {numbers[duplicated[1]]}: "
                         f"key {shorten(keys.iloc[duplicated[0]])} is listed twice")
    result = pd.DataFrame({"key": keys})
    for name in columns:
        result[name] = frame[VERIWILD_COLUMNS[name]].str.strip()
    return result


def align_attributes(image_paths, files, veriwild_columns):
    """Ground truth of every image, from one or more attribute files.

    Parameters
    ----------
    image_paths : pandas Series of str, length n
        Normalised image paths in row order.
    files : list of (path, format)
        format ``csv`` (``paths`` + one column per attribute), ``veriwild`` or ``auto``
        (:func:`detect_format`).
    veriwild_columns : list of str
        Columns taken from VeRi-Wild files.

    Returns
    -------
    aligned : DataFrame of n rows
        ``paths`` then every file's columns, strings, '' where unknown or unmatched.
    matches : DataFrame
        Per file (:data:`MATCH_COLUMNS`): rows, matched rows, unmatched rows, images
        without a row and an example of an unmatched row.

    Raises
    ------
    InputError
        A file matches fewer than half of the images, or two files share a column.
    """
    import pandas as pd

    from descluster import ingest

    aligned = pd.DataFrame({"paths": image_paths.to_numpy()})
    keys = None
    matches = []
    owner = {}
    for path, fmt in files:
        fmt = detect_format(path) if fmt == "auto" else fmt
        if fmt == "veriwild":
            table = read_veriwild(path, veriwild_columns)
            if keys is None:
                keys = image_keys(aligned["paths"])
            on, mine = "key", pd.DataFrame({"key": keys})
        else:
            table = ingest.read_paths_table(path, source_label="attributes")
            table = table.drop(columns=["path_original"])
            on, mine = "paths", aligned[["paths"]]
        columns = [c for c in table.columns if c != on]
        for column in columns:
            if column not in NOT_ATTRIBUTES:
                check_name(column, f"{path}, line 1 (the header)" if fmt == "csv" else str(path))
        for column in columns:
            if column in owner:
                raise InputError(f"{path}: column {column!r} is also in {owner[column]}; "
                                 "every attribute must come from one file")
            owner[column] = path
        row_of_image = mine.merge(table[[on]].assign(_row=np.arange(len(table))), on=on,
                                  how="left")["_row"].to_numpy()
        found = ~np.isnan(row_of_image)
        matched_rows = np.zeros(len(table), dtype=bool)
        matched_rows[row_of_image[found].astype(np.int64)] = True
        unmatched = np.flatnonzero(~matched_rows)
        example = str(table[on].iloc[unmatched[0]]) if unmatched.size else ""
        matches.append({"file": str(path), "format": fmt, "rows": len(table),
                        "rows_matched": int(matched_rows.sum()), "rows_unmatched": int(unmatched.size),
                        "images_without_row": int((~found).sum()),
                        "example_unmatched_row": example})
        log.info("attributes: %s (%s): %d rows, %d match an image, %d images have no row", path,
                 fmt, len(table), matched_rows.sum(), (~found).sum())
        if (~found).sum() > MAX_UNMATCHED_SHARE * len(aligned):
            image = int(np.flatnonzero(~found)[0])
            key = mine[on].iloc[image]
            raise InputError(
                f"{path}: {(~found).sum()} of {len(aligned)} images match no row (e.g. image "
                f"{shorten(aligned['paths'].iloc[image])}, looked up as {on} {shorten(key)}"
                + (f"; the file's row {shorten(example)} matches no image" if example else "")
                + "); is it the ground truth of these images?")
        rows = row_of_image[found].astype(np.int64)
        for column in columns:
            values = np.full(len(aligned), "", dtype=object)
            values[found] = table[column].to_numpy(dtype=object)[rows]
            aligned[column] = values
    return aligned, pd.DataFrame(matches, columns=MATCH_COLUMNS)


def is_outlier_value(values):
    """Which ground-truth ``outlier`` values mark a bad image: the one rule for the outlier
    summary, the cards, the outliers page and the map.

    Parameters
    ----------
    values : array-like of shape (n,)
        An ``outlier`` column: an outlier kind (``glare``), or a good image: empty, missing
        (None, NaN) or one of :data:`NOT_OUTLIER_VALUES` (any case, surrounding
        whitespace ignored).

    Returns
    -------
    ndarray of shape (n,), bool
        True where the value names an outlier kind.
    """
    import pandas as pd

    text = pd.Series(np.asarray(values, dtype=object)).fillna("").astype(str)
    return ~text.str.strip().str.lower().isin(NOT_OUTLIER_VALUES).to_numpy()


def attribute_codes(aligned):
    """Integer codes of every attribute of an aligned ground-truth table.

    Parameters
    ----------
    aligned : DataFrame
        From :func:`align_attributes`: ``paths``, then text columns ('' = unknown).

    Returns
    -------
    codes : dict of str -> ndarray of shape (n,), int32
        Per attribute with at least two known values: the code of each row's value
        (codes in order of first appearance), -1 where unknown. :data:`NOT_ATTRIBUTES`
        columns are left out.
    vocabularies : dict of str -> list of str
        The value of each code.
    """
    import pandas as pd

    codes, vocabularies = {}, {}
    for name in aligned.columns:
        if name in NOT_ATTRIBUTES:
            continue
        values = aligned[name].fillna("")
        code, uniques = pd.factorize(values.where(values != ""))
        if len(uniques) < 2:
            continue
        codes[name] = code.astype(np.int32)
        vocabularies[name] = [str(u) for u in uniques]
    return codes, vocabularies


def save_attribute_codes(codes, vocabularies, path):
    """Write :func:`attribute_codes` to an .npz (read back by :func:`load_attribute_codes`).

    Numeric and fixed-width text arrays only, so no pickle is needed to read it: the
    k-scan jobs read it, hundreds of short processes that need no pandas or pyarrow.
    """
    from descluster.files import atomic_output

    arrays = {}
    for name in codes:
        arrays[f"codes/{name}"] = codes[name]
        arrays[f"values/{name}"] = np.array(vocabularies[name], dtype=str)
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def load_attribute_codes(path):
    """(codes, vocabularies) as :func:`attribute_codes` returns them, from the file of
    :func:`save_attribute_codes`."""
    with np.load(path, allow_pickle=False) as archive:
        names = [key.removeprefix("codes/") for key in archive.files if key.startswith("codes/")]
        codes = {name: archive[f"codes/{name}"] for name in names}
        vocabularies = {name: archive[f"values/{name}"].tolist() for name in names}
    return codes, vocabularies
