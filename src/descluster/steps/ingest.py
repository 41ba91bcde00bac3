"""Steps of workflow/rules/ingest.smk: the paths file, every descriptor file and the ground
truth checked and stored (Parquet tables; descriptors as float32 .npy)."""

import logging

import numpy as np
import pandas as pd

from descluster import attributes, ingest
from descluster.files import (atomic_output, load_descriptor_array, load_descriptor_paths,
                              write_table)

log = logging.getLogger(__name__)


def ingest_paths(*, paths_csv, out_parquet):
    """Check the paths file and write ``row``, ``paths`` (normalised), ``path_original``."""
    table = ingest.read_paths_table(paths_csv)
    table = table[["paths", "path_original"]]
    table.insert(0, "row", np.arange(len(table), dtype=np.int64))
    with atomic_output(out_parquet) as tmp:
        table.to_parquet(tmp, index=False)
    log.info("ingest: %d image paths from %s", len(table), paths_csv)


def ingest_descriptors(*, descriptor_path, images_parquet, out_npy):
    """Load a descriptor file safely, check it against the paths, write it as float32 .npy
    in the paths file's row order (:func:`descluster.ingest.write_descriptor_npy`)."""
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    array = load_descriptor_array(descriptor_path)
    log.info("ingest: %s holds %s %s", descriptor_path, array.shape, array.dtype)
    ingest.check_descriptor_array(array, str(descriptor_path), len(paths))
    order = ingest.match_rows(load_descriptor_paths(descriptor_path), paths, str(descriptor_path))
    ingest.write_descriptor_npy(array, out_npy, row_order=order)


def ingest_attributes(*, files, images_parquet, veriwild_columns, out_parquet, out_codes,
                      out_matches):
    """Align the ground-truth files with the images.

    Parameters
    ----------
    files : list of (path, format)
        format ``csv`` or ``veriwild`` (see :func:`descluster.attributes.align_attributes`).

    Outputs: ``attributes.parquet`` (``paths`` in image row order, then one string column
    per attribute, '' = unknown), ``attribute_codes.npz`` (the attributes as integer codes,
    :func:`descluster.attributes.save_attribute_codes`) and ``attributes_match.tsv`` (how
    each file matched).
    """
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    aligned, matches = attributes.align_attributes(paths, files, veriwild_columns)
    with atomic_output(out_parquet) as tmp:
        aligned.to_parquet(tmp, index=False)
    attributes.save_attribute_codes(*attributes.attribute_codes(aligned), out_codes)
    write_table(matches, out_matches)
