"""PCA fitted on streamed batches: exact covariance eigendecomposition or IncrementalPCA."""

import dataclasses
import logging

import numpy as np

from descluster.errors import InputError
from descluster.files import atomic_output

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PCAFit:
    """A fitted PCA.

    Attributes
    ----------
    mean : ndarray of shape (d,), float64
    components : ndarray of shape (n_kept, d), float32
        Leading principal axes, one per row, sign fixed so that each row's largest
        absolute coordinate is positive.
    explained_variance : ndarray of shape (n_curve,), float64
        Variance along every computed axis (all d for the covariance method), so the
        explained-variance curve can be drawn beyond ``n_kept``.
    total_variance : float
        Sum of the per-feature variances of the data.
    n_samples : int
    method : str
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    total_variance: float
    n_samples: int
    method: str

    @property
    def explained_variance_ratio(self):
        """Share of the total variance per computed axis, shape (n_curve,)."""
        return self.explained_variance / self.total_variance


def _check_finite(values):
    """Stop with one line when float32 products of the descriptors overflowed."""
    if not np.isfinite(values).all():
        raise InputError(
            "PCA: the descriptors' sums of squares overflow float32 (values too large); "
            "scale the descriptors down"
        )


def _fix_signs(components):
    """Make the largest-magnitude coordinate of every axis positive (deterministic output)."""
    rows = np.arange(components.shape[0])
    signs = np.sign(components[rows, np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1
    return components * signs[:, None]


def fit_covariance_pca(batches, n_keep):
    """Exact PCA from the covariance matrix accumulated over streamed batches.

    Each float32 batch is centred on the first batch's mean (to avoid cancellation),
    its X'X is computed in float32 BLAS and added to a float64 d x d accumulator;
    the eigendecomposition of the resulting covariance gives all axes.
    Memory: one batch and two d x d float64 matrices.

    Parameters
    ----------
    batches : iterable of ndarray of shape (b, d), float32
    n_keep : int
        Number of leading axes to keep in ``components``.

    Returns
    -------
    PCAFit
    """
    shift = sum_shifted = cross = None
    n_samples = 0
    for batch in batches:
        if shift is None:
            shift = batch.mean(axis=0, dtype=np.float64).astype(np.float32)
            n_features = batch.shape[1]
            sum_shifted = np.zeros(n_features, dtype=np.float64)
            cross = np.zeros((n_features, n_features), dtype=np.float64)
        centred = batch - shift
        sum_shifted += centred.sum(axis=0, dtype=np.float64)
        cross += centred.T @ centred
        n_samples += len(batch)
        log.info("pca: accumulated %d rows", n_samples)
    if n_samples < 2:
        raise InputError(f"PCA needs at least 2 rows, got {n_samples}")
    _check_finite(cross)
    mean_shifted = sum_shifted / n_samples
    covariance = (cross - n_samples * np.outer(mean_shifted, mean_shifted)) / (n_samples - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    components = _fix_signs(eigenvectors[:, order[:n_keep]].T).astype(np.float32)
    return PCAFit(
        mean=shift.astype(np.float64) + mean_shifted,
        components=components,
        explained_variance=eigenvalues,
        total_variance=float(np.trace(covariance)),
        n_samples=n_samples,
        method="covariance",
    )


def _rebatch(batches, min_rows):
    """Merge batches so that every one has at least ``min_rows`` rows (the last absorbs the rest)."""
    pending = []
    pending_rows = 0
    for batch in batches:
        pending.append(batch)
        pending_rows += len(batch)
        if pending_rows >= 2 * min_rows:
            # keep the tail back so a short final batch can be merged into it
            merged = np.concatenate(pending)
            yield merged[:-min_rows]
            pending, pending_rows = [merged[-min_rows:]], min_rows
    if pending:
        yield np.concatenate(pending)


def fit_incremental_pca(batches, n_keep):
    """sklearn's IncrementalPCA over streamed batches (the users' original choice).

    Parameters
    ----------
    batches : iterable of ndarray of shape (b, d), float32
    n_keep : int
        Components fitted and kept; the explained-variance curve stops there.
    """
    from sklearn.decomposition import IncrementalPCA

    model = IncrementalPCA(n_components=n_keep)
    for batch in _rebatch(batches, n_keep):
        model.partial_fit(batch)
        log.info("pca: incremental fit has seen %d rows", model.n_samples_seen_)
    _check_finite(model.explained_variance_)
    total_variance = float(model.explained_variance_[0] / model.explained_variance_ratio_[0])
    return PCAFit(
        mean=model.mean_.astype(np.float64),
        components=_fix_signs(model.components_).astype(np.float32),
        explained_variance=model.explained_variance_.astype(np.float64),
        total_variance=total_variance,
        n_samples=int(model.n_samples_seen_),
        method="incremental",
    )


def components_to_fit(variants, n_rows, n_cols, batch_rows, method):
    """How many components the fit must keep for a model's variants.

    Parameters
    ----------
    variants : list of int or float
        Integers are component counts, floats explained-variance fractions.

    Returns
    -------
    int
        The largest integer variant; with any fraction variant, every axis the
        method can give (all of them for covariance, ``min(d, batch_rows)`` for
        incremental), since the count is known only after the fit.
    """
    limit = min(n_rows, n_cols)
    counts = [v for v in variants if isinstance(v, int)]
    if any(not isinstance(v, int) for v in variants):
        return limit if method == "covariance" else min(limit, batch_rows)
    return max(counts)


def check_variants(variants, n_rows, n_cols, source):
    """Stop before fitting when an integer variant exceeds min(n_rows, n_cols)."""
    limit = min(n_rows, n_cols)
    too_big = [v for v in variants if isinstance(v, int) and v > limit]
    if too_big:
        raise InputError(
            f"{source}: PCA variant(s) {too_big} ask for more components than the data has "
            f"({n_rows} rows x {n_cols} columns allow at most {limit})"
        )


def resolve_variant(variant, fit):
    """Number of components of a variant: the int itself, or the fewest reaching the fraction."""
    if isinstance(variant, int):
        return variant
    cumulative = np.cumsum(fit.explained_variance_ratio)
    reached = np.flatnonzero(cumulative >= variant - 1e-12)
    if reached.size == 0:
        raise InputError(
            f"explained-variance fraction {variant} is not reached by the "
            f"{len(cumulative)} fitted components (they explain {cumulative[-1]:.3f}); "
            "use the covariance method or a smaller fraction"
        )
    return int(reached[0]) + 1


def transform_batches(batches, fit, n_components):
    """Project streamed batches on the leading ``n_components`` axes.

    Yields
    ------
    ndarray of shape (b, n_components), float32
    """
    mean = fit.mean.astype(np.float32)
    axes = np.ascontiguousarray(fit.components[:n_components].T)
    for batch in batches:
        yield (batch - mean) @ axes


def save_fit(fit, path):
    """Write a PCAFit as .npz (see :class:`PCAFit` for the arrays)."""
    with atomic_output(path) as tmp:
        np.savez(tmp, mean=fit.mean, components=fit.components,
                 explained_variance=fit.explained_variance,
                 total_variance=fit.total_variance, n_samples=fit.n_samples,
                 method=fit.method)


def load_fit(path):
    """Read a PCAFit written by :func:`save_fit`."""
    with np.load(path, allow_pickle=False) as data:
        return PCAFit(mean=data["mean"], components=data["components"],
                      explained_variance=data["explained_variance"],
                      total_variance=float(data["total_variance"]),
                      n_samples=int(data["n_samples"]), method=str(data["method"]))
