"""Steps of workflow/rules/pca.smk: one PCA fit per model, one reduced matrix per variant."""

import contextlib
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from descluster import ingest, outliers, pca
from descluster.config import variant_name
from descluster.errors import InputError
from descluster.files import atomic_output, write_table

log = logging.getLogger(__name__)


# Peak memory of the covariance fit: about 7 d x d float64 matrices (the X'X sum, the
# covariance, the outer product, eigh's vectors and workspace; 200 x 12,000 took 5.7 GB),
# plus a batch three times over (measured when batches came from Parquet, with Arrow's
# buffer beside the float32 batch and its centred copy; the .npy batches need one copy
# fewer, so this is an upper bound) and the interpreter with its libraries.
COVARIANCE_BYTES_PER_D2 = 56
BYTES_PER_BATCH_VALUE = 12
BASE_BYTES = 400 * 2 ** 20


def fit_memory_bytes(n_cols, batch_rows, method):
    """Bytes :func:`fit_pca` needs at its peak for descriptors of ``n_cols`` columns (the
    SLURM request of fit_pca grows with it: workflow/rules/common.smk, pca_fit_mem_mb)."""
    square = COVARIANCE_BYTES_PER_D2 * n_cols ** 2 if method == "covariance" else 0
    return square + BYTES_PER_BATCH_VALUE * batch_rows * n_cols + BASE_BYTES


def machine_memory_bytes():
    """Memory this process may use: the machine's, or less under a cgroup limit (SLURM)."""
    limits = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            limits.append(int(Path(path).read_text().strip()))
    return min(limits)


class _VarianceProbe:
    """Streams batches through while summing, in float64, what the total variance is: the
    reference the fitted PCA's total is checked against (float32 products underflow)."""

    def __init__(self, batches):
        self.batches, self.shift, self.n = batches, None, 0
        self.sums = self.squares = 0.0

    def __iter__(self):
        for batch in self.batches:
            if self.shift is None:
                self.shift = batch.mean(axis=0, dtype=np.float64).astype(np.float32)
            centred = batch - self.shift
            self.sums = self.sums + centred.sum(axis=0, dtype=np.float64)
            self.squares += float(np.einsum("ij,ij->", centred, centred, dtype=np.float64))
            self.n += len(batch)
            yield batch

    def total_variance(self):
        mean = np.asarray(self.sums) / self.n
        return float((self.squares - self.n * mean @ mean) / (self.n - 1))


def _check_fit_scale(fit, probe, source):
    """One line when the float32 fit lost the variance (values too small): rescale."""
    expected = probe.total_variance()
    got = fit.total_variance
    if expected > 0 and np.isfinite(got) and abs(got - expected) <= 0.01 * expected:
        return
    scale = np.sqrt(max(expected, 0.0) / len(probe.shift)) if expected > 0 else 0.0
    advice = (f"multiply them by a constant, e.g. {ingest.rescale_factor(scale):g}" if scale > 0
              else "their rows differ only beyond float32's precision")
    raise InputError(
        f"{source}: the descriptors vary too little for a float32 PCA (total variance "
        f"{expected:.3g}; the fit found {got:.3g}): their products underflow; rescale the "
        f"descriptors ({advice})")


def fit_pca(*, descriptors_npy, source, variants, method, batch_rows, model, out_fit, out_curve,
            out_variants):
    """Fit one model's PCA once, at its largest variant, and resolve every variant.

    Before fitting, a covariance fit that would not fit in this machine's memory
    (:func:`fit_memory_bytes`) stops with one line advising ``pca_method: incremental``.
    Errors name ``source``, the user's descriptor file.

    Outputs: the fit (.npz), the explained-variance curve (TSV; plotted by
    :func:`plot_explained_variance`) and ``variants.tsv`` (pca: the variant's name,
    variant: as configured, n_components, explained_variance).
    """
    n_rows, n_cols = ingest.descriptor_shape(descriptors_npy)
    pca.check_variants(variants, n_rows, n_cols, f"config key 'pca.{model}'")
    needed, available = fit_memory_bytes(n_cols, batch_rows, method), machine_memory_bytes()
    if method == "covariance" and needed > available:
        raise InputError(
            f"{source}: {n_cols} columns need about {needed / 2 ** 30:.1f} GiB for pca_method: "
            f"covariance (d x d matrices), more than the {available / 2 ** 30:.1f} GiB this job "
            "may use; set pca_method: incremental in the config")
    n_keep = pca.components_to_fit(variants, n_rows, n_cols, batch_rows, method)
    batches = _VarianceProbe(ingest.iter_descriptor_batches(descriptors_npy, batch_rows))
    log.info("pca: %s, %d x %d, method %s, keeping %d components", model, n_rows, n_cols,
             method, n_keep)
    fit_method = pca.fit_covariance_pca if method == "covariance" else pca.fit_incremental_pca
    try:
        fit = fit_method(batches, n_keep)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    _check_fit_scale(fit, batches, source)
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
    for r in resolved:
        log.info("pca: %s %s -> %d components, %.1f %% variance", model, r["pca"],
                 r["n_components"], 100 * r["explained_variance"])


def plot_explained_variance(*, curve_tsv, variants_tsv, model, out_png):
    """The cumulative explained variance of one model's fit, its variants marked (its own
    job: matplotlib takes about 1 s to start, which the PCA chain need not wait for)."""
    from descluster import plots  # not at the top: the PCA steps need no matplotlib

    variants = pd.read_csv(variants_tsv, sep="\t")
    plots.plot_explained_variance(
        pd.read_csv(curve_tsv, sep="\t")["explained_variance_ratio"].to_numpy(),
        list(zip(variants["pca"], variants["n_components"])), model, out_png)


def reduce_pca(*, descriptors_npy, fit_path, variants_tsv, variant, batch_rows, out_npy,
               out_residual):
    """Project every row on a variant's components, and measure what the projection misses.

    ``variant`` is the variant's name (``pca150``, ``var0.9``), a row of ``variants_tsv``.

    Outputs: ``out_npy``, (n, n_components) float32, the PCA coordinates; ``out_residual``,
    (n,) float32, each row's distance to the variant's PCA subspace
    (:func:`descluster.outliers.residual_norms`), which the outlier score reads.
    """
    fit = pca.load_fit(fit_path)
    table = pd.read_csv(variants_tsv, sep="\t")
    n_components = int(table.loc[table["pca"] == variant, "n_components"].iloc[0])
    components = fit.components[:n_components]
    n_rows, _ = ingest.descriptor_shape(descriptors_npy)
    with atomic_output(out_npy) as tmp, atomic_output(out_residual) as tmp_residual:
        reduced = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(n_rows, n_components))
        residual = np.empty(n_rows, dtype=np.float32)
        start = 0
        for batch in ingest.iter_descriptor_batches(descriptors_npy, batch_rows):
            block = next(pca.transform_batches([batch], fit, n_components))
            reduced[start:start + len(block)] = block
            # the reconstruction from the coordinates just computed: one more product
            residual[start:start + len(block)] = outliers.residual_norms(
                batch, fit.mean, components, projected=block)
            start += len(block)
        reduced.flush()
        del reduced
        np.save(tmp_residual, residual)
    log.info("pca: reduced %d rows to %d components (%s); median distance to the subspace %.3g",
             n_rows, n_components, variant, float(np.median(residual)) if n_rows else 0.0)
