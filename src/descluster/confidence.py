"""Confidence of a propagated label, and how well a confidence ranks wrong labels last.

The confidence is the image's margin between its own cluster and the nearest cluster not
named like it: ``1 - d_own / d_other``, with ``d_own`` its distance to its own centroid
and ``d_other`` its distance to the nearest centroid whose value differs from its own or
is unknown. 1 at its centroid, 0 on the boundary with a cluster of another (or no) name.
Chosen on real descriptors over the distance to the centroid alone and over the share of
the image's nearest neighbours with the same label (docs/label-confidence.md).
"""

import numpy as np

from descluster.clustering import _chunks, _row_norms, _squared_distances


def label_confidence(X, centroids, labels, cluster_values):
    """``1 - d_own / d_other`` per image: how far it is from a differently named cluster.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
        The rows the clustering was computed on.
    centroids : ndarray of shape (k, p), float32
    labels : ndarray of shape (n,), int
        Each row's cluster (its nearest centroid).
    cluster_values : array-like of shape (k,), str
        Each cluster's value of one attribute, one per centroid (empty clusters
        included); '' = unknown.

    Returns
    -------
    ndarray of shape (n,), float64
        In [0, 1]; NaN where the image's cluster has no value. ``d_other`` is the distance
        to the nearest centroid whose value is another or unknown (an unnamed cluster
        may hold anything); 1 when every other cluster has the same value. An image as
        far from such a centroid as from its own (or farther) gets 0.
    """
    values = np.asarray(cluster_values, dtype=object)
    if values.shape != (len(centroids),):
        raise ValueError(f"cluster_values must hold one value per centroid ({len(centroids)}), "
                         f"got shape {values.shape}")
    labels = np.asarray(labels)
    # differs[a, b]: cluster b counts as "named otherwise" for the images of cluster a
    differs = (values[:, None] != values[None, :]) | (values == "")[None, :]
    centroids = np.ascontiguousarray(centroids, dtype=np.float32)
    confidence = np.empty(X.shape[0])
    for start, chunk in _chunks(X):
        chunk_labels = labels[start:start + len(chunk)]
        squared = _squared_distances(chunk, centroids, _row_norms(chunk)).astype(np.float64)
        own = squared[np.arange(len(chunk)), chunk_labels]
        other = np.where(differs[chunk_labels], squared, np.inf).min(axis=1)
        ratio = np.sqrt(np.divide(own, other, out=np.ones(len(chunk)), where=other > 0))
        confidence[start:start + len(chunk)] = np.clip(1.0 - ratio, 0.0, 1.0)
    confidence[values[labels] == ""] = np.nan
    return confidence


def auroc(confidence, correct):
    """Area under the ROC curve of ``confidence`` for telling right labels from wrong ones.

    Parameters
    ----------
    confidence : ndarray of shape (n,), float
    correct : ndarray of shape (n,), bool

    Returns
    -------
    float
        The probability that a right label has a higher confidence than a wrong one
        (ties count half); NaN when all labels are right or all wrong.
    """
    from sklearn.metrics import roc_auc_score

    correct = np.asarray(correct, dtype=bool)
    if correct.all() or not correct.any():
        return float("nan")
    return float(roc_auc_score(correct, confidence))


def top_share_gain(confidence, correct, share=0.8):
    """Accuracy of the ``share`` most confident images minus the accuracy of all.

    Parameters
    ----------
    confidence : ndarray of shape (n,), float
    correct : ndarray of shape (n,), bool
    share : float
        In (0, 1].

    Returns
    -------
    float
        The images tied at the cut count with their mean accuracy for the places left
        (the expected gain when ties are broken at random), so a coarse confidence is
        neither helped nor hurt by the order of the rows.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    n_kept = share * len(confidence)
    cut = np.sort(confidence)[::-1][int(np.ceil(n_kept)) - 1]
    above, tied = confidence > cut, confidence == cut
    kept_right = correct[above].sum() + (n_kept - above.sum()) * correct[tied].mean()
    return float(kept_right / n_kept - correct.mean())
