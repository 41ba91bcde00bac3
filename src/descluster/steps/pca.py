"""Steps of workflow/rules/pca.smk: one PCA fit per model, one reduced matrix per variant."""

import logging

import numpy as np
import pandas as pd

from descluster import ingest, pca, plots
from descluster.config import variant_name
from descluster.errors import InputError
from descluster.files import atomic_output, write_table

log = logging.getLogger(__name__)


def fit_pca(*, descriptors_parquet, variants, method, batch_rows, model, out_fit, out_curve,
            out_variants, out_plot):
    """Fit one model's PCA once, at its largest variant, and resolve every variant.

    Outputs: the fit (.npz), the explained-variance curve (TSV and PNG) and
    ``variants.tsv`` (pca: the variant's name, variant: as configured, n_components,
    explained_variance).
    """
    n_rows, n_cols = ingest.descriptor_shape(descriptors_parquet)
    pca.check_variants(variants, n_rows, n_cols, f"config key 'pca.{model}'")
    n_keep = pca.components_to_fit(variants, n_rows, n_cols, batch_rows, method)
    batches = ingest.iter_descriptor_batches(descriptors_parquet, batch_rows)
    log.info("pca: %s, %d x %d, method %s, keeping %d components", model, n_rows, n_cols,
             method, n_keep)
    fit_method = pca.fit_covariance_pca if method == "covariance" else pca.fit_incremental_pca
    try:
        fit = fit_method(batches, n_keep)
    except InputError as exc:
        raise InputError(f"{descriptors_parquet}: {exc}") from None
    ratio = fit.explained_variance_ratio
    resolved = []
    for variant in variants:
        try:
            n = pca.resolve_variant(variant, fit)
        except InputError as exc:
            raise InputError(f"config key 'pca.{model}': {exc}") from None
        resolved.append({"pca": variant_name(variant), "variant": variant, "n_components": n,
                         "explained_variance": float(ratio[:n].sum())})
    n_used = max(r["n_components"] for r in resolved)
    fit.components = fit.components[:n_used]
    pca.save_fit(fit, out_fit)
    write_table(pd.DataFrame({
        "component": np.arange(1, len(ratio) + 1),
        "explained_variance": fit.explained_variance,
        "explained_variance_ratio": ratio,
        "cumulative": np.cumsum(ratio),
    }), out_curve)
    write_table(pd.DataFrame(resolved), out_variants)
    plots.plot_explained_variance(ratio, [(r["pca"], r["n_components"]) for r in resolved],
                                  model, out_plot)
    for r in resolved:
        log.info("pca: %s %s -> %d components, %.1f %% variance", model, r["pca"],
                 r["n_components"], 100 * r["explained_variance"])


def reduce_pca(*, descriptors_parquet, fit_path, variants_tsv, variant, batch_rows, out_npy):
    """Project every row on a variant's components: ``out_npy`` is (n, n_components) float32.

    ``variant`` is the variant's name (``pca150``, ``var0.9``), a row of ``variants_tsv``.
    """
    fit = pca.load_fit(fit_path)
    table = pd.read_csv(variants_tsv, sep="\t")
    n_components = int(table.loc[table["pca"] == variant, "n_components"].iloc[0])
    n_rows, _ = ingest.descriptor_shape(descriptors_parquet)
    with atomic_output(out_npy) as tmp:
        reduced = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(n_rows, n_components))
        start = 0
        for block in pca.transform_batches(
                ingest.iter_descriptor_batches(descriptors_parquet, batch_rows), fit, n_components):
            reduced[start:start + len(block)] = block
            start += len(block)
        reduced.flush()
        del reduced
    log.info("pca: reduced %d rows to %d components (%s)", n_rows, n_components, variant)
