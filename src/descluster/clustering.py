"""KMeans (k-means++ and Lloyd), assignment of all rows, and cluster-validity scores.

Written on numpy's BLAS rather than scikit-learn because the k-scan runs one short
process per k and importing scikit-learn costs about 1 s of each (measured; it pulls in
scipy.stats and pandas). The algorithms are scikit-learn's (greedy k-means++ with
2 + ln k trials, Lloyd until the centroid shift is below ``tol`` times the mean feature
variance, best of ``n_init`` restarts by inertia); tests check them against it. Lloyd
skips the distances of rows whose label cannot change (Hamerly's bounds), with the same
iterations and labels. Data may be a read-only memory map: it is read in chunks of
``_CHUNK_ROWS`` rows (small enough for the CPU caches: 8192 rows assigned and summed at
416,314 x 150 in 0.19 s against 0.28 s with 65,536).
"""

import logging
from typing import NamedTuple

import numpy as np

from descluster.errors import InputError

log = logging.getLogger(__name__)

_CHUNK_ROWS = 8192


def sample_rows(n_rows, n_sample, seed):
    """Sorted indices of a fixed-seed sample without replacement; all rows if n_sample is 0 or >= n_rows."""
    if n_sample == 0 or n_sample >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=n_sample, replace=False))


def scan_fit_rows(k, rows_per_cluster, min_rows):
    """Rows a k-scan KMeans at ``k`` is fitted on: ``rows_per_cluster * k``, at least
    ``min_rows``; 0 = all."""
    if rows_per_cluster == 0:
        return 0
    return max(min_rows, rows_per_cluster * k)


class KMeansFit(NamedTuple):
    """The kept run of :func:`fit_kmeans`."""

    centroids: np.ndarray  # (k, p) float32
    inertia: float  # sum of squared distances of the fitted rows to their centroids
    n_iter: int  # Lloyd iterations of that run
    converged: bool  # False when it stopped at max_iter
    start: str  # 'k-means++', or 'init i' (from the i-th start of ``init``, as it is or after Lloyd)
    empty_clusters: tuple  # clusters no fitted row is nearest to (fewer distinct rows than k)
    labels: np.ndarray  # (n_fitted,) int32: :func:`assign` of the fitted rows (all rows if no sample)
    distances: np.ndarray  # (n_fitted,) float32, likewise
    init_inertias: tuple  # inertia of each start of ``init`` as it is, on the fitted rows


def fit_kmeans(X, k, seed, n_init, max_iter, fit_sample=0, tol=1e-4, init=()):
    """Fit KMeans on all rows or a fixed-seed sample of them; keep the best of its runs.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    k : int
    seed : int
        Seeds the sample and the k-means++ draws.
    n_init : int
        Runs, each followed by Lloyd iterations: one from each start of ``init``, the
        rest (at least none) from k-means++ seedings.
    max_iter : int
        Lloyd iterations at most per restart.
    fit_sample : int
        Rows to fit on; 0 = all.
    tol : float
        Stop when the squared centroid shift falls below ``tol`` x the mean feature variance.
    init : sequence of ndarray of shape (k, p)
        Given starts (e.g. the k-scan's best centroids). Each is a candidate as it is
        and as the start of Lloyd iterations, so the result is never worse than it.

    Returns
    -------
    KMeansFit
        The run with the lowest inertia on the fitted rows (inertia from
        :func:`assign`'s distances, as every table reports it), with its assignment of
        the fitted rows, so that a fit on all rows needs no further pass.
    """
    n_rows = X.shape[0]
    if k >= n_rows:
        raise InputError(f"k = {k} must be below the number of rows ({n_rows})")
    fitted = _sample(X, fit_sample, seed)
    shift_tol = tol * _mean_variance(fitted)
    rng = np.random.default_rng([seed, 1])  # a stream apart from the sample's
    runs = []
    n_plusplus = max(n_init - len(init), 0)
    row_norms = _all_row_norms(fitted) if n_plusplus else None
    for _ in range(n_plusplus):
        start = kmeans_plusplus(fitted, k, rng, row_norms)
        runs.append((lloyd(fitted, start, max_iter, shift_tol), "k-means++"))
    for number, start in enumerate(init):
        start = np.asarray(start, dtype=np.float32)
        runs.append(((start, 0, True), f"init {number}"))
        runs.append((lloyd(fitted, start, max_iter, shift_tol), f"init {number}"))
    best, init_inertias = None, []
    for (centroids, n_iter, converged), origin in runs:
        labels, distances = assign(fitted, centroids)
        fit = KMeansFit(centroids, _sum_of_squares(distances), n_iter, converged, origin,
                        tuple(np.flatnonzero(np.bincount(labels, minlength=k) == 0).tolist()),
                        labels, distances, ())
        if origin != "k-means++" and n_iter == 0:
            init_inertias.append(fit.inertia)
        if best is None or fit.inertia < best.inertia:
            best = fit
    return best._replace(init_inertias=tuple(init_inertias))


# The k-scan's restarts are screened on this share of its sample, but on at least this
# many rows (all of a smaller sample: small data sets are fitted as before, see scan_kmeans).
_SCREEN_SHARE = 4
_SCREEN_MIN_ROWS = 2500


def scan_kmeans(X, k, seed, n_init, max_iter, fit_sample):
    """The k-scan's KMeans at k: restarts screened on a small sample, the best refined.

    Each of the ``n_init`` k-means++ restarts runs Lloyd on a fixed-seed sample of a
    quarter of ``fit_sample`` rows (0 = all rows), at least 2,500 (all rows of a smaller
    sample: there the restarts cost little and a quarter would be too few rows per
    cluster); only the best of them goes on with Lloyd on ``fit_sample`` rows. Measured
    at seed scale against the restarts on the whole sample (docs/performance.md): a
    third of the time; inertia / scikit-learn's default KMeans on all rows for osnet
    (k = 2..41) at a median 0.981 (0.980) and worst 0.999 (1.009); 0.7 % higher on
    efficientnet-b7's 250 components.

    Returns
    -------
    KMeansFit
        As :func:`fit_kmeans` on ``fit_sample`` rows; ``n_iter`` is the refinement's
        (the best restart's when the restarts ran on the whole sample).
    """
    fit_rows = min(fit_sample or X.shape[0], X.shape[0])
    screen_rows = max(fit_rows // _SCREEN_SHARE, min(fit_rows, _SCREEN_MIN_ROWS))
    screened = fit_kmeans(X, k, seed, n_init, max_iter, screen_rows)
    if screen_rows == fit_rows:  # screened on the whole sample: nothing left to refine
        return screened
    return fit_kmeans(X, k, seed, 1, max_iter, fit_rows, init=[screened.centroids])


def _sample(X, n_sample, seed):
    """The rows of a fixed-seed sample of X (:func:`sample_rows`), a float32 copy; X
    itself (read chunk by chunk, never copied) when the sample is all rows."""
    rows = sample_rows(X.shape[0], n_sample, seed)
    return X if len(rows) == X.shape[0] else np.ascontiguousarray(X[rows], dtype=np.float32)


def _mean_variance(X):
    """Mean per-feature variance of X (n, p), in float64, chunk by chunk."""
    total = np.zeros(X.shape[1])
    for _, chunk in _chunks(X):
        total += chunk.sum(axis=0, dtype=np.float64)
    mean = total / X.shape[0]
    squares = np.zeros(X.shape[1])
    for _, chunk in _chunks(X):
        squares += ((chunk - mean) ** 2).sum(axis=0)
    return float((squares / X.shape[0]).mean())


def warn_about_fit(fit, what, max_iter):
    """Log what a user should know of a :class:`KMeansFit` named ``what``: no convergence
    within ``max_iter``, empty clusters."""
    if not fit.converged:
        log.warning("kmeans: %s stopped at max_iter = %d without converging; raise "
                    "clustering.max_iter for a tighter fit", what, max_iter)
    if fit.empty_clusters:
        log.warning("kmeans: %s: cluster(s) %s are empty: the data has fewer distinct rows "
                    "than k; lower k", what, " ".join(map(str, fit.empty_clusters)))


def inertia(X, centroids):
    """Sum of squared distances of the rows of X (n, p) to their nearest centroid, as a float."""
    return _sum_of_squares(assign(X, centroids)[1])


def _sum_of_squares(distances):
    return float(np.sum(distances.astype(np.float64) ** 2))


def kmeans_plusplus(X, k, rng, row_norms):
    """Greedy k-means++ seeding: each new centroid is the best of 2 + ln k draws.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32, C-contiguous
    rng : numpy Generator
    row_norms : ndarray of shape (n,), float32
        Squared norm of each row.

    Returns
    -------
    ndarray of shape (k, p), float32
    """
    n_rows = X.shape[0]
    n_trials = 2 + int(np.log(k))
    centroids = np.empty((k, X.shape[1]), dtype=np.float32)
    centroids[0] = X[rng.integers(n_rows)]
    closest = _squared_distances(X, centroids[:1], row_norms)[:, 0]
    for c in range(1, k):
        cumulative = np.cumsum(closest, dtype=np.float64)
        if cumulative[-1] > 0:
            draws = np.searchsorted(cumulative, rng.random(n_trials) * cumulative[-1])
            candidates = np.minimum(draws, n_rows - 1)
        else:  # every row sits on a centroid already: any row will do
            candidates = rng.integers(n_rows, size=n_trials)
        trial = np.minimum(_squared_distances(X, X[candidates], row_norms), closest[:, None])
        best = int(np.argmin(trial.sum(axis=0, dtype=np.float64)))
        closest = trial[:, best]
        centroids[c] = X[candidates[best]]
    return centroids


def lloyd(X, centroids, max_iter, tol):
    """Lloyd iterations from ``centroids`` until they move less than ``tol`` or labels stop changing.

    An empty cluster takes the row farthest from its centroid, which leaves its old
    cluster, as in scikit-learn; nothing moves when every row sits on its centroid.

    Each iteration gives every row the label a full assignment would give it, but
    computes distances only for the rows whose label can have changed (Hamerly's
    bounds: an upper bound on the distance to the own centroid, a lower bound on the
    distance to any other, both moved by how far the centroids moved, widened by the
    rounding error of float32 distances); late iterations touch few rows. Cluster sums
    follow the rows that change clusters.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    centroids : ndarray of shape (k, p), float32
    tol : float
        Absolute bound on the summed squared centroid shift.

    Returns
    -------
    centroids : ndarray of shape (k, p), float32
    n_iter : int
        Iterations run.
    converged : bool
        False when ``max_iter`` iterations ran without converging.
    """
    centroids = previous = np.asarray(centroids, dtype=np.float32)
    state = _full_assignment(X, centroids)
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            state, n_changed = _reassign(X, centroids, previous, state)
            if n_changed == 0:
                return centroids, n_iter, True
        sums, counts = state.sums, state.counts
        if not counts.all():
            if not state.exact:  # relocation needs every row's distance to its centroid
                state = _full_assignment(X, centroids)
            sums, counts = sums.copy(), counts.copy()
            # the moved rows' labels and sums no longer agree: the next pass is a full one
            state.stale = _relocate_empty_clusters(X, state.labels, state.squared, sums, counts)
        updated = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        # a cluster left empty (more clusters than distinct rows) keeps its centroid
        updated[counts == 0] = centroids[counts == 0]
        shift = float(((updated - centroids.astype(np.float64)) ** 2).sum())
        centroids, previous = updated, centroids
        if shift <= tol:
            return centroids, n_iter, True
    return centroids, max_iter, False


# The rounding error of a float32 squared distance |x|^2 - 2 x.c + |c|^2 over p columns
# is at most about (2 p + 4) units of float32 roundoff times |x|^2 + |c|^2 (the dot
# product's worst case); Lloyd's bounds and tests are widened by that much.
_FLOAT32_ROUNDOFF = 2.0 ** -24
# Above this share of rows to assign anew, a full pass is cheaper than gathering them.
_FULL_PASS_SHARE = 0.5


class _Assignment:
    """Lloyd's state (see :func:`lloyd`), for n rows and k clusters.

    labels (n,) int64; squared (n,) float32, each row's squared distance to its centroid
    (all exact only right after a full pass: ``exact``); upper, lower (n,) float64,
    bounds on the distance to the own centroid and to the nearest other one; row_norms
    (n,) float64; sums (k, p) float64 and counts (k,) int64 per cluster; ``stale`` when
    labels and sums disagree (after a relocation).
    """

    def __init__(self, labels, squared, second, row_norms, centroids, sums):
        self.labels, self.squared, self.row_norms, self.sums = labels, squared, row_norms, sums
        self.counts = np.bincount(labels, minlength=centroids.shape[0])
        error = _rounding_allowance(row_norms, centroids)
        self.upper = np.sqrt(squared + error)
        self.lower = np.sqrt(np.maximum(second - error, 0.0))
        self.exact, self.stale = True, False


def _rounding_allowance(row_norms, centroids):
    """(m,) float64: how far a float32 squared distance of rows with squared norms
    ``row_norms`` (m,) to ``centroids`` (k, p) can be off."""
    scale = (2 * centroids.shape[1] + 4) * _FLOAT32_ROUNDOFF
    return scale * (row_norms + float(_row_norms(centroids.astype(np.float64)).max()))


def _nearest_two(chunk, centroids, chunk_norms):
    """Label (m,) int64, squared distance to the nearest centroid and to the second
    nearest (m,) float32 (inf when k = 1) of each row of ``chunk``."""
    squared = _squared_distances(chunk, centroids, chunk_norms)
    labels = np.argmin(squared, axis=1)
    rows = np.arange(len(chunk))
    nearest = squared[rows, labels]
    squared[rows, labels] = np.inf
    return labels, nearest, squared.min(axis=1)


def _full_assignment(X, centroids):
    """Assign every row and sum the clusters, one pass over X; an :class:`_Assignment`."""
    n_rows, k = X.shape[0], centroids.shape[0]
    labels = np.empty(n_rows, dtype=np.int64)
    squared = np.empty(n_rows, dtype=np.float32)
    second = np.empty(n_rows, dtype=np.float32)
    row_norms = np.empty(n_rows, dtype=np.float32)
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    for start, chunk in _chunks(X):
        rows = slice(start, start + len(chunk))
        row_norms[rows] = _row_norms(chunk)
        labels[rows], squared[rows], second[rows] = _nearest_two(chunk, centroids, row_norms[rows])
        sums += _one_hot_sums(chunk, labels[rows], k)
    return _Assignment(labels, squared, second, row_norms.astype(np.float64), centroids, sums)


def _reassign(X, centroids, previous, state):
    """Move ``state`` from the ``previous`` centroids to ``centroids``: (state, number of
    rows whose label changed).

    A row keeps its label without a distance computation when its upper bound is below
    its lower bound by more than the rounding allowance of both distances; the others
    are assigned anew. A full pass when most rows need one, or after a relocation.
    """
    if state.stale:
        fresh = _full_assignment(X, centroids)
        return fresh, int(np.count_nonzero(fresh.labels != state.labels))
    labels = state.labels
    moved = np.sqrt(((centroids - previous.astype(np.float64)) ** 2).sum(axis=1))
    state.upper += moved[labels]
    if len(moved) > 1:
        largest, runner_up = np.argsort(moved, kind="stable")[::-1][:2]
        state.lower -= np.where(labels == largest, moved[runner_up], moved[largest])
    # every other centroid is at least (its distance from the own one - upper) away
    wide = centroids.astype(np.float64)
    between = np.sqrt(_squared_distances(wide, wide, _row_norms(wide)))
    np.fill_diagonal(between, np.inf)
    other = np.maximum(state.lower, between.min(axis=1)[labels] - state.upper)
    error = _rounding_allowance(state.row_norms, centroids)
    unsure = np.flatnonzero((other <= 0) | (state.upper ** 2 + 2 * error >= other ** 2))
    if len(unsure) > _FULL_PASS_SHARE * len(labels):
        fresh = _full_assignment(X, centroids)
        return fresh, int(np.count_nonzero(fresh.labels != labels))
    state.exact = False
    n_changed = 0
    for start in range(0, len(unsure), _CHUNK_ROWS):
        rows = unsure[start:start + _CHUNK_ROWS]
        chunk = np.asarray(X[rows], dtype=np.float32)
        new, squared, second = _nearest_two(chunk, centroids, state.row_norms[rows].astype(np.float32))
        state.squared[rows] = squared
        state.upper[rows] = np.sqrt(squared + error[rows])
        state.lower[rows] = np.sqrt(np.maximum(second - error[rows], 0.0))
        changed = np.flatnonzero(new != labels[rows])
        if len(changed):
            moving, old, new = rows[changed], labels[rows[changed]], new[changed]
            # +1 at the new cluster, -1 at the old one: the sums follow the moving rows
            signs = np.zeros((len(changed), len(centroids)))
            signs[np.arange(len(changed)), new] += 1.0
            signs[np.arange(len(changed)), old] -= 1.0
            state.sums += signs.T @ chunk[changed].astype(np.float64)
            state.counts += np.bincount(new, minlength=len(centroids)) - np.bincount(
                old, minlength=len(centroids))
            labels[moving] = new
            n_changed += len(changed)
    return state, n_changed


def _relocate_empty_clusters(X, labels, squared, sums, counts):
    """Give each empty cluster one of the rows farthest from their centroids, in place;
    True when a row moved.

    The row leaves its old cluster (its sum and count), as scikit-learn's
    ``_relocate_empty_clusters_dense`` does, with the same choice of rows.
    """
    empty = np.flatnonzero(counts == 0)
    if not len(empty) or squared.max() == 0:
        return False
    farthest = np.argpartition(squared, -len(empty))[:-len(empty) - 1:-1]
    for cluster, row in zip(empty, farthest):
        old = labels[row]
        sums[old] -= X[row]
        counts[old] -= 1
        sums[cluster], counts[cluster] = X[row], 1
    return True


def _squared_distances(A, B, a_norms):
    """(m, l) squared Euclidean distances between rows of A (m, p) and B (l, p), never negative.

    Computed as |a|^2 - 2 a.b + |b|^2 in A's dtype (float32 for data: BLAS speed, and
    float64 copies of the (m, l) matrix doubled the time); ``a_norms`` is
    :func:`_row_norms` of A.
    """
    squared = A @ B.T
    squared *= -2.0
    squared += a_norms[:, None]
    squared += _row_norms(B)[None, :]
    return np.maximum(squared, 0.0, out=squared)


def _row_norms(X):
    """(n,) squared norm of each row of X (n, p), in X's dtype."""
    return np.einsum("ij,ij->i", X, X)


def _all_row_norms(X):
    """:func:`_row_norms` of X (n, p), chunk by chunk (X may be a memory map)."""
    norms = np.empty(X.shape[0], dtype=np.float32)
    for start, chunk in _chunks(X):
        norms[start:start + len(chunk)] = _row_norms(chunk)
    return norms


def _chunks(X):
    """(start, chunk) over the rows of X in blocks of ``_CHUNK_ROWS``, each a float32 array."""
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        yield start, np.asarray(X[start:start + _CHUNK_ROWS], dtype=np.float32)


def _nearest_in_chunk(chunk, centroids):
    """Label (m,) int64 and squared distance (m,) float32 of each row's nearest centroid."""
    squared = _squared_distances(chunk, centroids, _row_norms(chunk))
    labels = np.argmin(squared, axis=1)
    return labels, squared[np.arange(len(chunk)), labels]


def _one_hot_sums(chunk, chunk_labels, k):
    """(k, p) sum of the rows of ``chunk`` per label, as a one-hot product (BLAS speed)."""
    one_hot = np.zeros((len(chunk), k), dtype=np.float32)
    one_hot[np.arange(len(chunk)), chunk_labels] = 1.0
    return one_hot.T @ chunk


def _cluster_sums(X, labels, k):
    """(k, p) float64 sum of the rows of each cluster, in chunks."""
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    for start, chunk in _chunks(X):
        sums += _one_hot_sums(chunk, labels[start:start + len(chunk)], k)
    return sums


def assign(X, centroids, with_sums=False):
    """Nearest centroid of every row.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    centroids : ndarray of shape (k, p), float32
    with_sums : bool
        Also sum the rows of each cluster, in the same pass (for the validity indices).

    Returns
    -------
    labels : ndarray of shape (n,), int32
    distances : ndarray of shape (n,), float32
        Euclidean distance of each row to its own centroid, computed directly
        (not from the expanded dot-product form, which loses precision).
    sums : ndarray of shape (k, p), float64
        Only with ``with_sums``: :func:`_cluster_sums` of the labels.
    """
    centroids = np.asarray(centroids, dtype=np.float32)
    k = centroids.shape[0]
    labels = np.empty(X.shape[0], dtype=np.int32)
    distances = np.empty(X.shape[0], dtype=np.float32)
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    buffer = _chunk_buffer(X)
    for start, chunk in _chunks(X):
        chunk_labels, _ = _nearest_in_chunk(chunk, centroids)
        labels[start:start + len(chunk)] = chunk_labels
        distances[start:start + len(chunk)] = np.sqrt(
            _squared_offsets(chunk, centroids, chunk_labels, buffer))
        if with_sums:
            sums += _one_hot_sums(chunk, chunk_labels, k)
    return (labels, distances, sums) if with_sums else (labels, distances)


def _chunk_buffer(X):
    """A float32 scratch array for one chunk of X's rows (reused: no allocation per chunk)."""
    return np.empty((min(_CHUNK_ROWS, X.shape[0]), X.shape[1]), dtype=np.float32)


def _squared_offsets(chunk, centroids, chunk_labels, buffer):
    """(m,) squared distance of each row of ``chunk`` to ``centroids[chunk_labels]``,
    computed directly (row minus centroid) in ``buffer``."""
    offsets = buffer[:len(chunk)]
    np.take(centroids, chunk_labels, axis=0, out=offsets)
    np.subtract(chunk, offsets, out=offsets)
    return _row_norms(offsets)


def cluster_sizes(labels, distances, k):
    """Per cluster: size, share of all rows, mean and 90th-percentile distance to the centroid.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
    distances : ndarray of shape (n,), float32
        From :func:`assign`.
    k : int

    Returns
    -------
    DataFrame of k rows
        ``cluster`` (0..k-1), ``size``, ``share``, ``mean_distance``, ``p90_distance``
        (float64; NaN for an empty cluster): the columns of ``sizes.tsv``.
    """
    import pandas as pd  # not at the top: the k-scan jobs import this module, and need no pandas

    frame = pd.DataFrame({"cluster": labels, "distance": distances.astype(np.float64)})
    grouped = frame.groupby("cluster")["distance"]
    sizes = pd.DataFrame({"cluster": np.arange(k)})
    sizes["size"] = np.bincount(labels, minlength=k)
    sizes["share"] = sizes["size"] / len(labels)
    sizes["mean_distance"] = sizes["cluster"].map(grouped.mean())
    sizes["p90_distance"] = sizes["cluster"].map(grouped.quantile(0.9))
    return sizes


def validity_scores(X, labels, distances, seed, silhouette_sample, sums=None):
    """Cluster-validity indices of one clustering, with scikit-learn's definitions.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32
    labels : ndarray of shape (n,), non-negative int
    distances : ndarray of shape (n,), float32
        Distance of each row to its centroid (from :func:`assign`).
    silhouette_sample : int
        Rows the silhouette is computed on (fixed-seed sample); NaN if the sample
        holds a single cluster.
    sums : ndarray of shape (labels.max() + 1, p), float64, optional
        Sum of the rows of each label, as :func:`assign` gives it with ``with_sums``;
        computed here (one more pass over X) when not given.

    Returns
    -------
    dict
        inertia (sum of squared distances), calinski_harabasz, davies_bouldin, silhouette.
        The two indices are NaN when fewer than two clusters are non-empty.
    """
    inertia = _sum_of_squares(distances)
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    if present.size < 2:
        nan = float("nan")
        return {"inertia": inertia, "calinski_harabasz": nan, "davies_bouldin": nan, "silhouette": nan}
    if sums is None:
        sums = _cluster_sums(X, labels, counts.size)
    if present.size < counts.size:  # number the clusters present 0..k-1, as np.unique would
        renumber = np.zeros(counts.size, dtype=np.int64)
        renumber[present] = np.arange(present.size)
        labels, sums, counts = renumber[labels], sums[present], counts[present]
    calinski_harabasz, davies_bouldin = _calinski_harabasz_davies_bouldin(X, labels, sums, counts)
    rows = sample_rows(len(labels), silhouette_sample, seed)
    return {
        "inertia": inertia,
        "calinski_harabasz": calinski_harabasz,
        "davies_bouldin": davies_bouldin,
        "silhouette": silhouette(np.asarray(X[rows]), labels[rows]),
    }


def _calinski_harabasz_davies_bouldin(X, labels, sums, counts):
    """Both indices from the cluster sums (k, p) and counts (k,) and one chunked pass over X
    (labels in 0..k-1, every cluster non-empty).

    scikit-learn's functions copy each cluster out of X in turn, which took 0.6 s per
    k-scan job at 416,314 x 150; these are the same formulas, in float32 row by row
    (as scikit-learn's) and float64 over rows.
    """
    n_rows, k = X.shape[0], len(counts)
    counts = counts.astype(np.float64)
    means = sums / counts[:, None]
    means32 = means.astype(np.float32)
    within = np.zeros(k)
    spread = np.zeros(k)
    buffer = _chunk_buffer(X)
    for start, chunk in _chunks(X):
        chunk_labels = labels[start:start + len(chunk)]
        squared = _squared_offsets(chunk, means32, chunk_labels, buffer)
        within += np.bincount(chunk_labels, weights=squared, minlength=k)
        spread += np.bincount(chunk_labels, weights=np.sqrt(squared), minlength=k)
    overall = (counts @ means) / n_rows
    between = float(counts @ ((means - overall) ** 2).sum(axis=1))
    total_within = float(within.sum())
    calinski_harabasz = (1.0 if total_within == 0
                         else between * (n_rows - k) / (total_within * (k - 1)))
    spread /= counts
    centroid_distances = np.sqrt(_squared_distances(means, means, _row_norms(means)))
    np.fill_diagonal(centroid_distances, 0.0)  # exact zeros, not rounding residue
    if np.allclose(spread, 0) or np.allclose(centroid_distances, 0):
        return float(calinski_harabasz), 0.0
    centroid_distances[centroid_distances == 0] = np.inf
    davies_bouldin = np.max((spread[:, None] + spread[None, :]) / centroid_distances, axis=1).mean()
    return float(calinski_harabasz), float(davies_bouldin)


def silhouette(X, labels):
    """Mean silhouette coefficient (Euclidean), scikit-learn's definition; NaN for one cluster.

    Parameters
    ----------
    X : ndarray of shape (m, p); m is a sample, as the cost is m x m
    labels : ndarray of shape (m,), int

    Returns
    -------
    float
    """
    present, labels = np.unique(labels, return_inverse=True)
    k = present.size
    if k < 2:
        return float("nan")
    X = np.ascontiguousarray(X, dtype=np.float32)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    one_hot = np.zeros((len(X), k), dtype=np.float32)
    one_hot[np.arange(len(X)), labels] = 1.0
    norms = _row_norms(X)
    # summed distance of each row to each cluster; distances are symmetric, so each
    # block of them is computed once and used for its rows and for its columns
    cluster_sums = np.zeros((len(X), k))
    for start in range(0, len(X), _SILHOUETTE_BLOCK):
        block = slice(start, start + _SILHOUETTE_BLOCK)
        for other in range(start, len(X), _SILHOUETTE_BLOCK):
            columns = slice(other, other + _SILHOUETTE_BLOCK)
            distances = np.sqrt(_squared_distances(X[block], X[columns], norms[block]))
            if other == start:  # exact zeros on the diagonal, not rounding residue
                np.fill_diagonal(distances, 0.0)
            cluster_sums[block] += distances @ one_hot[columns]
            if other != start:
                cluster_sums[columns] += distances.T @ one_hot[block]
    rows = np.arange(len(X))
    own_count = counts[labels] - 1
    within = np.divide(cluster_sums[rows, labels], own_count, out=np.zeros(len(X)),
                       where=own_count > 0)
    cluster_sums /= counts[None, :]
    cluster_sums[rows, labels] = np.inf
    nearest = cluster_sums.min(axis=1)
    larger = np.maximum(within, nearest)
    scores = np.divide(nearest - within, larger, out=np.zeros(len(X)), where=larger > 0)
    return float(np.where(own_count > 0, scores, 0.0).mean())


_SILHOUETTE_BLOCK = 1024


SUGGESTION_RULE = ("lowest Davies-Bouldin index over the scanned k "
                   "(ties: higher Calinski-Harabasz)")


def suggest_k(scan):
    """Suggested k per (model, pca) from a k-scan table.

    Parameters
    ----------
    scan : DataFrame
        Columns model, pca, n_components, k, inertia, calinski_harabasz,
        davies_bouldin, silhouette.

    Returns
    -------
    DataFrame
        One row per (model, pca): n_components, suggested_k (by
        :data:`SUGGESTION_RULE`), best_k_calinski_harabasz, best_k_silhouette, rule.
    """
    import pandas as pd

    rows = []
    for (model, pca), group in scan.groupby(["model", "pca"], sort=False):
        valid = group.dropna(subset=["davies_bouldin"])
        by_db = valid.sort_values(["davies_bouldin", "calinski_harabasz"], ascending=[True, False])
        rows.append({
            "model": model,
            "pca": pca,
            "n_components": int(group["n_components"].iloc[0]),
            "suggested_k": int(by_db["k"].iloc[0]) if len(by_db) else None,
            "best_k_calinski_harabasz": _k_at_max(group, "calinski_harabasz"),
            "best_k_silhouette": _k_at_max(group, "silhouette"),
            "rule": SUGGESTION_RULE,
            "note": _edge_note(by_db["k"].iloc[0] if len(by_db) else None, group["k"]),
        })
    return pd.DataFrame(rows)


EDGE_NOTE = "optimum at the edge: widen k_range"


def _edge_note(k, scanned):
    """:data:`EDGE_NOTE` when k is the largest scanned k, or the smallest one above 2."""
    if k is None:
        return ""
    at_edge = k == scanned.max() or (k == scanned.min() and k > 2)
    return EDGE_NOTE if at_edge else ""


def _k_at_max(group, column):
    valid = group.dropna(subset=[column])
    return int(valid.loc[valid[column].idxmax(), "k"]) if len(valid) else None
