"""A 2-D map of every image of one (model, PCA variant): a centroid-anchored layout.

The rows are cut into ``cells`` (a KMeans of the variant, about 150 cells at seed scale);
the cells' centroids are placed in 2-D by a small exact t-SNE (started from their PCA, so
the global arrangement is kept); each cell becomes a disc whose area is its share of the
images, and overlapping discs are pushed apart. An image sits in its cell's disc: its
distance to the centroid, as a rank within the cell, gives the radius (nearest at the
centre, the farthest, outliers, on the rim) and the direction of its offset on the cell's
two leading local axes gives the angle, the axes turned to agree with the directions of
the neighbouring cells on the map (an image between two cells leans toward the other).

Cost at 416,314 x 250 on one core: one KMeans on a 64-rows-per-cell sample, one
assignment pass, one pass gathering each cell's rows; see docs/performance.md.
"""

import numpy as np

from descluster import clustering

MAX_CELLS = 150  # cells at scale: ~2,800 images each at 416,314
MIN_CELL_ROWS = 25  # fewer cells on small data: at least this many rows per cell
ROWS_PER_CELL = 64  # KMeans of the cells is fitted on this many rows per cell
KMEANS_ITER = 15  # Lloyd iterations at most (cells need not be optimal)
AXIS_ROWS = 500  # rows per cell its local axes are estimated from
NEIGHBOURS = 6  # neighbouring cells that turn a cell's local axes
FILL = 0.5  # share of the unit disc (the t-SNE of the cells, scaled) the discs cover
GAP = 0.06  # space kept between two discs, as a share of their radii


def n_cells(n_rows, max_cells=MAX_CELLS, min_cell_rows=MIN_CELL_ROWS):
    """Cells of a layout of ``n_rows`` rows: ``n_rows // min_cell_rows``, within 1..max_cells."""
    return int(min(max_cells, max(1, n_rows // min_cell_rows)))


def tsne(distances, perplexity=30.0, n_iter=1000, init=None):
    """Exact t-SNE of a few hundred points at most (O(m^2) per iteration).

    Parameters
    ----------
    distances : ndarray of shape (m, m)
        Squared distances between the points.
    perplexity : float
        Lowered to (m - 1) / 3 for few points.
    init : ndarray of shape (m, 2) or None
        Start (scaled to a standard deviation of 1e-4 as openTSNE does); None = zeros.

    Returns
    -------
    ndarray of shape (m, 2), float64
        Deterministic: no random draw (start from ``init``).
    """
    m = distances.shape[0]
    if m < 3:
        return np.column_stack([np.arange(m, dtype=np.float64), np.zeros(m)])
    p = _joint_probabilities(np.asarray(distances, dtype=np.float64),
                             min(perplexity, (m - 1) / 3.0))
    y = np.zeros((m, 2)) if init is None else np.asarray(init, dtype=np.float64).copy()
    y *= 1e-4 / max(float(y[:, 0].std()), 1e-12)
    rate = max(m / 12.0 / 4.0, 50.0)  # scikit-learn's 'auto'
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    for it in range(n_iter):
        exaggeration, momentum = (12.0, 0.5) if it < 250 else (1.0, 0.8)
        diff = y[:, None, :] - y[None, :, :]
        q = 1.0 / (1.0 + (diff ** 2).sum(axis=2))
        np.fill_diagonal(q, 0.0)
        pull = (exaggeration * p - q / q.sum()) * q
        grad = 4.0 * (pull[:, :, None] * diff).sum(axis=1)
        same = np.sign(grad) == np.sign(velocity)
        gains = np.maximum(np.where(same, gains * 0.8, gains + 0.2), 0.01)
        velocity = momentum * velocity - rate * gains * grad
        y += velocity
    return y - y.mean(axis=0)


def _joint_probabilities(distances, perplexity, tol=1e-5, steps=100):
    """Symmetric t-SNE affinities (m, m) from squared distances, by a binary search per row."""
    m = distances.shape[0]
    target = np.log(perplexity)
    conditional = np.zeros((m, m))
    for i in range(m):
        d = np.delete(distances[i], i)
        d = d - d.min()
        beta, low, high = 1.0 / max(float(np.mean(d)), 1e-12), 0.0, np.inf
        for _ in range(steps):
            w = np.exp(-d * beta)
            total = w.sum()
            entropy = np.log(total) + beta * (d * w).sum() / total
            if abs(entropy - target) < tol:
                break
            if entropy > target:
                low, beta = beta, beta * 2 if high == np.inf else (beta + high) / 2
            else:
                high, beta = beta, (beta + low) / 2
        conditional[i, np.arange(m) != i] = w / total
    return (conditional + conditional.T) / (2.0 * m)


def _leading_axes(rows, n_axes=2):
    """(p, n_axes) leading principal axes of centred ``rows`` (n, p); zero columns if p < n_axes."""
    covariance = rows.T.astype(np.float64) @ rows
    values, vectors = np.linalg.eigh(covariance)
    axes = np.zeros((rows.shape[1], n_axes))
    keep = min(n_axes, rows.shape[1])
    axes[:, :keep] = vectors[:, ::-1][:, :keep]
    return axes


def separate_discs(centres, radii, gap=GAP, n_iter=400):
    """Push discs apart until no two overlap (within ``gap`` of their radii), little moved.

    Parameters
    ----------
    centres : ndarray of shape (m, 2)
    radii : ndarray of shape (m,)

    Returns
    -------
    ndarray of shape (m, 2)
        Each pair overlapping is pushed apart along the line joining it, the smaller
        disc moving more; coincident centres are split along a fixed direction.
    """
    y = np.asarray(centres, dtype=np.float64).copy()
    m = len(y)
    if m < 2:
        return y
    area = radii ** 2
    share = area[None, :] / (area[:, None] + area[None, :] + 1e-300)  # of a's move
    need = (radii[:, None] + radii[None, :]) * (1.0 + gap)
    fallback = np.stack([np.cos(np.arange(m)), np.sin(np.arange(m))], axis=1)
    for _ in range(n_iter):
        diff = y[:, None, :] - y[None, :, :]
        dist = np.sqrt((diff ** 2).sum(axis=2))
        overlap = np.maximum(need - dist, 0.0)
        np.fill_diagonal(overlap, 0.0)
        if overlap.max() <= 1e-9 * need.max():
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = np.where(dist[:, :, None] > 0, diff / dist[:, :, None],
                            fallback[:, None, :] - fallback[None, :, :])
        y += 0.5 * (overlap[:, :, None] * share[:, :, None] * unit).sum(axis=1)
    return y


def cell_map(centroids, sizes):
    """2-D centre and radius of each cell's disc.

    Parameters
    ----------
    centroids : ndarray of shape (m, p), float32
    sizes : ndarray of shape (m,), int
        Rows per cell: a disc's area is proportional to it.

    Returns
    -------
    centres : ndarray of shape (m, 2)
    radii : ndarray of shape (m,)
    """
    c = np.asarray(centroids, dtype=np.float64)
    c = c - c.mean(axis=0)
    squared = np.maximum((c ** 2).sum(1)[:, None] + (c ** 2).sum(1)[None, :] - 2 * c @ c.T, 0.0)
    init = c @ _leading_axes(c)
    y = tsne(squared, perplexity=min(30.0, max(3.0, len(c) / 12.0)), init=init)
    radii = np.sqrt(np.asarray(sizes, dtype=np.float64) / max(int(np.sum(sizes)), 1))
    y /= max(float(np.sqrt((y ** 2).sum(axis=1)).max()), 1e-12)  # within the unit disc
    radii *= np.sqrt(FILL)  # the discs cover FILL of the unit disc's area
    return separate_discs(y, radii), radii


def _turn(local, target):
    """2 x 2 orthogonal matrix R (reflection allowed) best turning directions ``local`` (m, 2)
    onto ``target`` (m, 2) (orthogonal Procrustes on unit vectors)."""
    def unit(v):
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    u, _, vt = np.linalg.svd(unit(local).T @ unit(target))
    return u @ vt


def place_rows(X, labels, distances, centroids, centres, radii, seed):
    """Position of every row in its cell's disc.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a memory map)
    labels : ndarray of shape (n,), int
        Cell of each row (0..m-1).
    distances : ndarray of shape (n,), float32
        Distance of each row to its cell's centroid.
    centroids : ndarray of shape (m, p)
    centres, radii : from :func:`cell_map`.

    Returns
    -------
    ndarray of shape (n, 2), float64
        Radius: sqrt of the row's distance rank in its cell (a filled disc, nearest at
        the centre); angle: its offset on the cell's two leading local axes, turned
        toward the cell's neighbours on the map.
    """
    rng = np.random.default_rng([seed, 7])
    out = np.empty((X.shape[0], 2))
    m = len(centroids)
    c = np.asarray(centroids, dtype=np.float64)
    between = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(between, np.inf)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(m + 1))
    for cell in range(m):
        rows = order[bounds[cell]:bounds[cell + 1]]
        if not len(rows):
            continue
        offsets = np.asarray(X[rows], dtype=np.float32) - centroids[cell].astype(np.float32)
        if len(rows) > AXIS_ROWS:
            axes = _leading_axes(offsets[np.sort(rng.choice(len(rows), AXIS_ROWS, replace=False))])
        else:
            axes = _leading_axes(offsets)
        flat = offsets @ axes.astype(np.float32)
        near = np.argsort(between[cell], kind="stable")[:min(NEIGHBOURS, m - 1)]
        if len(near):
            flat = flat @ _turn((c[near] - c[cell]) @ axes, centres[near] - centres[cell])
        angle = np.arctan2(flat[:, 1], flat[:, 0])
        rank = np.argsort(np.argsort(distances[rows], kind="stable"), kind="stable")
        radius = radii[cell] * np.sqrt((rank + 0.5) / len(rows))
        out[rows, 0] = centres[cell, 0] + radius * np.cos(angle)
        out[rows, 1] = centres[cell, 1] + radius * np.sin(angle)
    return out


def layout(X, seed, max_cells=MAX_CELLS):
    """The 2-D map of all rows of X.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    seed : int
        Seeds the KMeans of the cells and the rows the local axes are estimated from:
        the same X and seed give the same map.

    Returns
    -------
    ndarray of shape (n, 2), float32
        Coordinates in [0, 1] on the longer side (aspect kept).
    """
    n = X.shape[0]
    k = n_cells(n, max_cells)
    if k == 1:  # few rows: one disc
        centroids = np.asarray(X, dtype=np.float32).mean(axis=0, keepdims=True)
    else:
        centroids = clustering.fit_kmeans(X, k, seed, n_init=1, max_iter=KMEANS_ITER,
                                          fit_sample=min(n, ROWS_PER_CELL * k)).centroids
    labels, distances = clustering.assign(X, centroids)
    centres, radii = cell_map(centroids, np.bincount(labels, minlength=k))
    y = place_rows(X, labels, distances, centroids, centres, radii, seed)
    y -= y.min(axis=0)
    y /= max(float(y.max()), 1e-12)
    return y.astype(np.float32)
