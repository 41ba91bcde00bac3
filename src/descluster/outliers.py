"""Outlier scores per image: an ensemble of normalised detectors in each PCA variant's
space, the membership of suspicious clusters, and their combination across model-variants.

Per model-variant (label-independent, the expensive part; :func:`outlier_score`): the
reduced coordinates plus one more, the row's distance to the PCA subspace
(:func:`residual_norms`), are searched for exact nearest neighbours among a fixed-seed
reference sample (:func:`nearest_neighbours`: float32 BLAS in blocks, a k-d tree in few
dimensions). Two detectors follow: the local outlier factor (density relative to the
neighbours' density), its largest value over the neighbourhood sizes k/2 to 2k
(:func:`largest_local_outlier_factor`, as Breunig et al. rank by), and the Gaussian
distance under probabilistic PCA (the Mahalanobis distance in the kept components plus the
residual against the discarded variance). Each is put on one scale by the robust z of its
logarithm; the score weighs the local evidence and the global one the same.

Across model-variants (cheap; :func:`combine_variants`): the mean of the columns' robust z,
after the number of suspicious clusters (tiny, or labelled outlier) an image is in, so
that such images rank first. Flags (:func:`tail_flags`): a robust tail cut of a score,
or a fixed rate when the user gives one. See docs/outliers.md for the measurements.
"""

import numpy as np

from descluster.errors import InputError

_MAD_TO_SIGMA = 1.4826
# A tiny or outlier-labelled cluster adds this much to a score: it ranks above any
# distance-based score short of an extreme one.
MEMBERSHIP_BONUS = 10.0
# Default flag cut: robust z of a score above this is flagged (median + TAIL_CUT x 1.4826 MAD).
TAIL_CUT = 3.0
# Query rows per block of the neighbour search: a block's distances to a 20,000-row
# reference are 256 x 20,000 float32 (20 MB); at 416,314 x 20,000 rows, 256 took 37 s of
# CPU in 151 dimensions, 1024 took 40 s (fewer cache misses in the selection).
_CHUNK_ROWS = 256
# Rows per block of the cheap per-row passes (LOF, Gaussian distance): bounded temporaries.
_BLOCK_ROWS = 4096
# Reference rows per block of the two-stage selection (see _blas_candidates): at 256 x 20,000
# distances per query block, 16 took 22 ms, 64 took 26 ms (more values gathered per row).
_SELECT_BLOCK = 16
# Search spaces of at most this many dimensions use a k-d tree: at 100,000 x 20,000 rows it
# took 1.2 s in 3 dimensions, 2.3 s in 8 and 5.4 s in 11, where the BLAS search takes about
# 4.5 s whatever the dimension up to ~20 (bound by the selection).
KD_TREE_DIMENSIONS = 8
# Added to mean reachability distances before inverting them (duplicate rows), as scikit-learn.
_REACH_FLOOR = 1e-10


def robust_z(values, groups=None):
    """(value - median) / (1.4826 MAD), within each group when ``groups`` is given.

    Parameters
    ----------
    values : ndarray of shape (n,)
    groups : ndarray of shape (n,) of int, optional

    Returns
    -------
    ndarray of shape (n,), float64
        A group with zero spread divides by the mean absolute deviation instead, and
        by 1 if that is zero too.
    """
    values = np.asarray(values, dtype=np.float64)
    if groups is None:
        groups = np.zeros(len(values), dtype=np.int64)
    z = np.empty_like(values)
    for group in np.unique(groups):
        members = groups == group
        median, spread = _centre_spread(values[members])
        z[members] = (values[members] - median) / spread
    return z


def _centre_spread(values):
    """Median and 1.4826 MAD of float64 values (the mean absolute deviation when the MAD
    is 0, and 1 when that is 0 too)."""
    median = np.median(values)
    spread = _MAD_TO_SIGMA * np.median(np.abs(values - median))
    if spread == 0:
        spread = np.mean(np.abs(values - median)) or 1.0
    return median, spread


def tiny_clusters(sizes, tiny_fraction):
    """Clusters whose size is below ``tiny_fraction`` x the average cluster size.

    Parameters
    ----------
    sizes : ndarray of shape (k,), int

    Returns
    -------
    ndarray of shape (k,), bool
    """
    sizes = np.asarray(sizes)
    return sizes < tiny_fraction * sizes.sum() / len(sizes)


def model_score(z, suspicious):
    """One model-variant's outlier score: ``z + MEMBERSHIP_BONUS`` for images of suspicious
    (tiny or outlier-labelled) clusters.

    Parameters
    ----------
    z : ndarray of shape (n,)
        From :func:`outlier_score`.
    suspicious : ndarray of shape (n,), bool
    """
    return z + MEMBERSHIP_BONUS * suspicious


def flag_top(scores, rate):
    """Boolean mask of the ``ceil(rate x n)`` highest scores (ties broken by position)."""
    n_flag = int(np.ceil(rate * len(scores)))
    flags = np.zeros(len(scores), dtype=bool)
    flags[np.argsort(-scores, kind="stable")[:n_flag]] = True
    return flags


def precision_recall(flags, truth):
    """Precision and recall of boolean flags against boolean truth (NaN when undefined)."""
    flags, truth = np.asarray(flags, bool), np.asarray(truth, bool)
    hits = np.sum(flags & truth)
    precision = hits / flags.sum() if flags.sum() else float("nan")
    recall = hits / truth.sum() if truth.sum() else float("nan")
    return float(precision), float(recall)


# --- the ensemble score of one model-variant --------------------------------------------

def residual_norms(batch, mean, components, projected=None):
    """Distance of each row to the PCA subspace: the part of it the kept components miss.

    Parameters
    ----------
    batch : ndarray of shape (b, d), float32
        Descriptor rows.
    mean : ndarray of shape (d,)
        The PCA mean.
    components : ndarray of shape (p, d), float32
        The kept axes, orthonormal rows.
    projected : ndarray of shape (b, p), float32, optional
        The rows' PCA coordinates ``(batch - mean) @ components.T`` when already computed
        (:func:`descluster.pca.transform_batches`), which saves one matrix product.

    Returns
    -------
    ndarray of shape (b,), float32
        ``|(x - mean) - (x - mean) V'V|``, from the reconstruction itself (the difference
        of squared norms cancels when little is left).
    """
    components = np.asarray(components, dtype=np.float32)
    centred = np.asarray(batch, dtype=np.float32) - np.asarray(mean, dtype=np.float32)
    if projected is None:
        projected = centred @ components.T
    centred -= np.asarray(projected, dtype=np.float32) @ components
    return np.sqrt(np.einsum("ij,ij->i", centred, centred))


def _search_rows(X, residual, rows):
    """Rows of the search space, float32 C-contiguous: X's rows, then the residual column."""
    block = np.asarray(X[rows], dtype=np.float32)
    if residual is None:
        return np.ascontiguousarray(block)
    return np.column_stack([block, np.asarray(residual[rows], dtype=np.float32)])


def _row_norms(A):
    return np.einsum("ij,ij->i", A, A)


def nearest_neighbours(X, residual, reference_rows, n_neighbours):
    """Exact nearest neighbours of every row among the reference rows.

    The search space is X's columns plus, when given, the residual as one more column
    (distances in it are the descriptor distances that the PCA subspace and the distance
    to it can tell). A reference row is not its own neighbour.

    Up to :data:`KD_TREE_DIMENSIONS` dimensions a k-d tree (scipy) answers; above, where
    trees degrade, float32 BLAS in blocks of rows (:func:`_blas_candidates`). Both give
    candidates whose distances are then computed exactly, row by row, and sorted.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    residual : ndarray of shape (n,), float32, or None
    reference_rows : ndarray of shape (r,), int
        Sorted row indices (e.g. :func:`descluster.clustering.sample_rows`).
    n_neighbours : int
        Below r.

    Returns
    -------
    distances : ndarray of shape (n, n_neighbours), float32
        Ascending along each row.
    positions : ndarray of shape (n, n_neighbours), int32
        The neighbours, as positions in ``reference_rows``.
    """
    reference_rows = np.asarray(reference_rows)
    n_reference = len(reference_rows)
    if n_neighbours >= n_reference:
        raise InputError(f"outliers: {n_neighbours} neighbours need more than {n_neighbours} "
                         f"images in the reference sample, there are {n_reference}")
    if residual is not None:
        # distances do not change with a shift; centred values keep float32 precise
        residual = np.asarray(residual, dtype=np.float32)
        residual = residual - np.float32(np.median(residual))
    reference = _search_rows(X, residual, reference_rows)
    want = n_neighbours + 1  # one more: a reference row finds itself first
    if reference.shape[1] <= KD_TREE_DIMENSIONS:
        search = _tree_candidates(reference, want)
    else:
        search = _blas_candidates(reference, want)
    own_position = np.full(X.shape[0], -1, dtype=np.int64)
    own_position[reference_rows] = np.arange(n_reference)
    distances = np.empty((X.shape[0], n_neighbours), dtype=np.float32)
    positions = np.empty((X.shape[0], n_neighbours), dtype=np.int32)
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, X.shape[0])
        rows = _search_rows(X, residual, slice(start, stop))
        found = search(rows)
        line = np.arange(len(rows))
        exact = np.sqrt(_row_norms((rows[:, None, :] - reference[found]).reshape(-1, rows.shape[1])))
        exact = exact.reshape(len(rows), want)
        # drop the row itself, or the farthest when it is not in its own list
        is_self = found == own_position[start:stop, None]
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), exact.argmax(axis=1))
        keep = np.ones(found.shape, dtype=bool)
        keep[line, drop] = False
        found = found[keep].reshape(len(rows), n_neighbours)
        exact = exact[keep].reshape(len(rows), n_neighbours)
        order = np.argsort(exact, axis=1, kind="stable")
        distances[start:stop] = np.take_along_axis(exact, order, axis=1)
        positions[start:stop] = np.take_along_axis(found, order, axis=1)
    return distances, positions


def _tree_candidates(reference, want):
    """A function of a block of rows (m, q) float32 giving the positions (m, want) of their
    ``want`` nearest reference rows, from a k-d tree (scipy)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(reference)

    def candidates(rows):
        return tree.query(rows, k=want)[1]

    return candidates


def _blas_candidates(reference, want):
    """A function of a block of rows (m, q) float32 giving the positions (m, want) of their
    ``want`` nearest reference rows, unordered, from float32 BLAS.

    Squared distances of the block to all reference rows come from one matrix product
    (the reference's squared norms ride in it as one more column); the nearest are
    selected in two stages: the reference is dealt into blocks (block j holds rows j,
    j + n_blocks, j + 2 n_blocks, ...), and the ``want`` blocks with the smallest minima
    hold the ``want`` smallest values (any other value has ``want`` smaller block minima
    below it). Dealt, not cut, blocks make the block minima an element-wise minimum over
    contiguous rows of the product, which vectorises (4 x faster than a minimum along
    short rows).
    """
    n_reference, width = reference.shape
    block = max(1, min(_SELECT_BLOCK, n_reference // want))
    n_blocks = -(-n_reference // block)
    # |a - b|^2 less the |a|^2 that does not change the order within a row, as one product
    # of [a, 1] and [-2 b, |b|^2]; padding rows are farther than any reference row
    extended = np.zeros((block * n_blocks, width + 1), dtype=np.float32)
    extended[:n_reference, :width] = -2.0 * reference
    extended[:n_reference, width] = _row_norms(reference)
    extended[n_reference:, width] = np.finfo(np.float32).max / 4
    extended = np.ascontiguousarray(extended.T)

    def candidates(rows):
        ones = np.ones((len(rows), 1), dtype=np.float32)
        squared = (np.hstack([rows, ones]) @ extended).reshape(len(rows), block, n_blocks)
        blocks = np.argpartition(squared.min(axis=1), want - 1, axis=1)[:, :want]
        # each row's chosen blocks (m, block, want), row by row: within a row's
        # distances the gather stays in cache, across all rows at once it does not
        values = np.empty((len(rows), block, want), dtype=np.float32)
        for row, (distances, chosen) in enumerate(zip(squared, blocks)):
            values[row] = distances[:, chosen]
        pick = np.argpartition(values.reshape(len(rows), block * want), want - 1,
                               axis=1)[:, :want]
        line = np.arange(len(rows))[:, None]
        return (pick // want) * n_blocks + blocks[line, pick % want]

    return candidates


def local_outlier_factor(distances, positions, reference_rows, n_neighbours):
    """Local outlier factor (Breunig et al. 2000) of every row against the reference rows.

    Parameters
    ----------
    distances, positions : ndarray of shape (n, K)
        From :func:`nearest_neighbours`, K >= ``n_neighbours``.
    reference_rows : ndarray of shape (r,), int
        The rows ``positions`` refers to.
    n_neighbours : int

    Returns
    -------
    ndarray of shape (n,), float64
        The mean local reachability density of a row's neighbours over its own: about 1
        inside a cluster, above 1 where a row is sparser than its neighbours are.
    """
    k_distance = distances[reference_rows, n_neighbours - 1]  # of each reference row
    density = np.empty(len(distances))
    for start in range(0, len(distances), _BLOCK_ROWS):
        near = distances[start:start + _BLOCK_ROWS, :n_neighbours]
        reach = np.maximum(near, k_distance[positions[start:start + _BLOCK_ROWS, :n_neighbours]])
        density[start:start + len(near)] = 1.0 / (reach.mean(axis=1, dtype=np.float64) + _REACH_FLOOR)
    reference_density = density[reference_rows]
    factor = np.empty(len(distances))
    for start in range(0, len(distances), _BLOCK_ROWS):
        neighbours = positions[start:start + _BLOCK_ROWS, :n_neighbours]
        factor[start:start + len(neighbours)] = (reference_density[neighbours].mean(axis=1)
                                                 / density[start:start + len(neighbours)])
    return factor


def neighbourhood_sizes(n_neighbours):
    """The neighbourhood sizes the local outlier factor is taken over: k/2 to 2k.

    Returns
    -------
    range
        ``max(1, k // 2)`` to ``2k``, both included; 2k is the width of the search.
    """
    return range(max(1, n_neighbours // 2), 2 * n_neighbours + 1)


def largest_local_outlier_factor(distances, positions, reference_rows, sizes):
    """The largest local outlier factor of every row over a range of neighbourhood sizes.

    Breunig et al. (2000, section 6) rank by the maximum LOF over a range of MinPts: a row
    that is an outlier at some scale (a small group of like rows seen from far enough, or
    one row among a few close ones) stands out at that scale, and no one size fits every
    density. All sizes come from the same neighbour lists.

    Parameters
    ----------
    distances, positions : ndarray of shape (n, K)
        From :func:`nearest_neighbours`, K >= ``max(sizes)``.
    reference_rows : ndarray of shape (r,), int
    sizes : iterable of int
        Neighbourhood sizes (e.g. :func:`neighbourhood_sizes`).

    Returns
    -------
    ndarray of shape (n,), float64
    """
    largest = np.zeros(len(distances))
    for size in sizes:
        np.maximum(largest, local_outlier_factor(distances, positions, reference_rows, size),
                   out=largest)
    return largest


def gaussian_distance(X, residual, n_features):
    """Squared Mahalanobis distance under probabilistic PCA (Tipping and Bishop 1999).

    ``sum_i z_i^2 / var_i + r^2 / s2``: the kept coordinates against their variances,
    the residual against the mean variance of a discarded axis,
    ``s2 = mean(r^2) / (n_features - p)``.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
        PCA coordinates (centred).
    residual : ndarray of shape (n,), or None
        From :func:`residual_norms`; None leaves the residual term out.
    n_features : int
        Columns of the descriptors (d).

    Returns
    -------
    ndarray of shape (n,), float64
        Axes (and a residual) without variance do not count.
    """
    n, p = X.shape
    sums = np.zeros(p)
    squares = np.zeros(p)
    for start in range(0, n, _BLOCK_ROWS):
        block = np.asarray(X[start:start + _BLOCK_ROWS], dtype=np.float64)
        sums += block.sum(axis=0)
        squares += (block ** 2).sum(axis=0)
    mean = sums / n
    variance = squares / n - mean ** 2
    weight = np.divide(1.0, variance, out=np.zeros(p), where=variance > 0)
    distance = np.empty(n)
    for start in range(0, n, _BLOCK_ROWS):
        block = np.asarray(X[start:start + _BLOCK_ROWS], dtype=np.float64) - mean
        distance[start:start + len(block)] = (block ** 2) @ weight
    if residual is not None and n_features > p:
        squared = np.asarray(residual, dtype=np.float64) ** 2
        per_axis = squared.mean() / (n_features - p)
        if per_axis > 0:
            distance += squared / per_axis
    return distance


def detector_scores(X, residual, n_features, n_neighbours, reference_sample, seed):
    """The two detectors of one model-variant, each as the robust z of its logarithm.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
        The variant's reduced matrix.
    residual : ndarray of shape (n,), float32, or None
        Each row's distance to the variant's PCA subspace (:func:`residual_norms`).
    n_features : int
        Columns of the descriptors the PCA was fitted on.
    n_neighbours : int
        k: the local outlier factor is taken over k/2 to 2k neighbours
        (:func:`neighbourhood_sizes`); 2k are searched.
    reference_sample : int
        Rows the neighbours are searched among (a fixed-seed sample; all rows when n is
        not larger).
    seed : int

    Returns
    -------
    dict of str to ndarray of shape (n,), float64
        ``lof`` (the largest over k/2 to 2k neighbours) and ``gaussian``.
    """
    from descluster.clustering import sample_rows

    sizes = neighbourhood_sizes(n_neighbours)
    n_wide = sizes[-1]
    reference_rows = sample_rows(X.shape[0], reference_sample, seed)
    if n_wide >= len(reference_rows):
        raise InputError(f"outliers: config key 'outliers.neighbours' = {n_neighbours} needs "
                         f"more than {n_wide} images (twice as many neighbours are searched), "
                         f"there are {len(reference_rows)}; lower it")
    distances, positions = nearest_neighbours(X, residual, reference_rows, n_wide)
    raw = {"lof": largest_local_outlier_factor(distances, positions, reference_rows, sizes)}
    del distances, positions  # (n, 2k) each: free them before the next pass
    raw["gaussian"] = gaussian_distance(X, residual, n_features)
    tiny = np.finfo(np.float64).tiny
    return {name: robust_z(np.log(np.maximum(values, tiny))) for name, values in raw.items()}


def outlier_score(X, residual, n_features, n_neighbours, reference_sample, seed):
    """One model-variant's label-independent outlier score: local and global evidence,
    half each.

    Parameters are those of :func:`detector_scores`.

    Returns
    -------
    ndarray of shape (n,), float64
        ``(lof + gaussian) / 2`` of :func:`detector_scores`: the local density ratio (its
        largest over k/2 to 2k neighbours) and the Gaussian distance weigh the same;
        larger is stranger.
    """
    scores = detector_scores(X, residual, n_features, n_neighbours, reference_sample, seed)
    return (scores["lof"] + scores["gaussian"]) / 2


# --- flags and the combination across model-variants -----------------------------------

def tail_threshold(scores, rate=None, cut=TAIL_CUT):
    """The score above which :func:`tail_flags` flags (the cut to draw on a histogram).

    Parameters are those of :func:`tail_flags`.

    Returns
    -------
    float
        With ``rate``: the lowest flagged score (flags are >= it; of tied scores, the
        first ones). Without: ``median + cut x 1.4826 MAD`` (flags are above it).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if rate is not None:
        return float(scores[flag_top(scores, rate)].min())
    median, spread = _centre_spread(scores)
    return float(median + cut * spread)


def tail_flags(scores, rate=None, cut=TAIL_CUT):
    """Flag the high tail of a score.

    Parameters
    ----------
    scores : ndarray of shape (n,)
    rate : float in (0, 1), optional
        Flag the ``ceil(rate x n)`` highest scores (ties broken by position).
    cut : float
        Without ``rate``: flag the scores whose robust z (:func:`robust_z`) exceeds
        ``cut``, i.e. above median + cut x 1.4826 MAD: the rate comes from the data.

    Returns
    -------
    flags : ndarray of shape (n,), bool
    rate : float
        The share flagged.
    """
    if rate is not None:
        flags = flag_top(scores, rate)
    else:
        flags = np.asarray(scores, dtype=np.float64) > tail_threshold(scores, cut=cut)
    return flags, float(flags.mean()) if len(flags) else 0.0


def combine_variants(scores, suspicious):
    """Combine model-variant scores into one ranking.

    Parameters
    ----------
    scores : ndarray of shape (n, m)
        One column per model-variant (:func:`outlier_score`).
    suspicious : ndarray of shape (n, m), bool
        The image is in a tiny or outlier-labelled cluster of that model-variant's
        clustering.

    Returns
    -------
    ndarray of shape (n,), float64
        ``MEMBERSHIP_BONUS x (columns where suspicious) + mean over columns of the robust
        z of each column``: an image in a suspicious cluster ranks above every image in
        none (in more of them, higher), then the mean decides. Each column is put on one
        scale first, so every model-variant weighs the same.
    """
    scores = np.asarray(scores, dtype=np.float64)
    standard = np.column_stack([robust_z(scores[:, column]) for column in range(scores.shape[1])])
    return MEMBERSHIP_BONUS * np.asarray(suspicious).sum(axis=1) + standard.mean(axis=1)
