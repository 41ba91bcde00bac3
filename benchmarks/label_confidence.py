"""Label confidence on real descriptors: does it put the wrong labels at the bottom?

    python benchmarks/label_confidence.py [--rows 416314] [--skip-timing]

For every real set and model in shared/real beside the repository (office-dslr:
googlenet, caffenet, surf; office-webcam: googlenet, surf): PCA to 90 % of the variance,
KMeans (seed 0, n_init 10) at k = 10 and k = 30, each cluster named after its majority
true ``object`` (the propagated label), correct = label == true class. For three
confidences it prints the AUROC for correctness and the accuracy gain of the 80 % most
confident images over all images:

distance  the former ``clip(1.5 - d / p90, 0, 1)`` (:func:`distance_confidence`, kept here)
agree     the share of the image's 10 nearest neighbours (exact, scikit-learn) whose
          label is the image's
margin    ``1 - d_own / d_other`` (descluster.confidence.label_confidence), the chosen one

``ceiling`` is the gain of a perfect ranking (0 when every label is right). Medians per k
follow. Then ``label_confidence`` (k = 30) is timed on synthetic float32 data of the seed
scale, 416,314 x 150 (30 Gaussian blobs), with the peak memory of the process.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from descluster import clustering, confidence
from descluster.files import load_descriptor_array

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
SETS = {"office-dslr": ["googlenet", "caffenet", "surf"], "office-webcam": ["googlenet", "surf"]}
KS = (10, 30)
SEED = 0
N_NEIGHBOURS = 10
METHODS = ("distance", "agree", "margin")


def distance_confidence(distances, labels, p90_distance):
    """The former confidence, the baseline ``label_confidence`` is measured against.

    ``clip(1.5 - distance / p90, 0, 1)`` with p90 the cluster's 90th-percentile
    distance: 1 in the inner half of the cluster, 0.5 at its 90th percentile, 0
    at 1.5 times it.

    Parameters
    ----------
    distances : ndarray of shape (n,)
    labels : ndarray of shape (n,), int
    p90_distance : ndarray of shape (k,)
    """
    spread = np.maximum(np.asarray(p90_distance, dtype=np.float64)[labels], 1e-12)
    return np.clip(1.5 - np.asarray(distances, dtype=np.float64) / spread, 0.0, 1.0)


def reduce(X):
    """(n, c) float32 PCA projection keeping 90 % of the variance of X (n, d)."""
    reduced = PCA(0.9, svd_solver="full").fit_transform(np.asarray(X, dtype=np.float32))
    return reduced.astype(np.float32)


def majority_names(cluster, truth, k):
    """(k,) object: each cluster's most common true value (ties: alphabetical), '' if empty."""
    counts = pd.crosstab(cluster, truth)
    names = np.full(k, "", dtype=object)
    names[counts.index.to_numpy()] = counts.idxmax(axis=1).to_numpy()
    return names


def measure(Z, truth, k, neighbour_indices):
    """One clustering of Z (n, c) at k: accuracy, ceiling, and AUROC and gain per method."""
    centroids = clustering.fit_kmeans(Z, k, SEED, n_init=10, max_iter=300).centroids
    cluster, distance = clustering.assign(Z, centroids)
    names = majority_names(cluster, truth, k)
    value = names[cluster]
    correct = value == truth
    scores = {
        "distance": distance_confidence(
            distance, cluster,
            clustering.cluster_sizes(cluster, distance, k)["p90_distance"].to_numpy()),
        "agree": (value[neighbour_indices] == value[:, None]).mean(axis=1),
        "margin": confidence.label_confidence(Z, centroids, cluster, names),
    }
    row = {"k": k, "accuracy": correct.mean(),
           "ceiling": min(1.0, correct.mean() / 0.8) - correct.mean()}
    for method, score in scores.items():
        row[f"auroc_{method}"] = confidence.auroc(score, correct)
        row[f"gain_{method}"] = confidence.top_share_gain(score, correct)
    return row


def nearest_neighbours(Z, n_neighbours):
    """(n, m) indices of each row's m nearest other rows (exact)."""
    from sklearn.neighbors import NearestNeighbors

    _, indices = NearestNeighbors(n_neighbors=n_neighbours + 1).fit(Z).kneighbors(Z)
    return indices[:, 1:]


def real_table():
    """One row per (set, model, k) with the figures of every method."""
    rows = []
    for name, models in SETS.items():
        truth = pd.read_csv(REAL / name / "attributes.csv")["object"].to_numpy(dtype=object)
        for model in models:
            Z = reduce(load_descriptor_array(REAL / name / "descriptors" / f"{model}.pickle"))
            indices = nearest_neighbours(Z, N_NEIGHBOURS)
            for k in KS:
                rows.append({"set": name, "model": model, "n": len(Z), "components": Z.shape[1],
                             **measure(Z, truth, k, indices)})
    return pd.DataFrame(rows)


def seed_scale_timing(n_rows, n_cols=150, k=30, seed=0):
    """Seconds of label_confidence on (n_rows, n_cols) blobs; peak MB."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, n_cols), dtype=np.float32) * 3
    X = centres[rng.integers(k, size=n_rows)]
    X += rng.standard_normal((n_rows, n_cols), dtype=np.float32)
    cluster, _ = clustering.assign(X, centres)
    names = np.array([f"class{c % 10}" for c in range(k)], dtype=object)
    started = time.perf_counter()
    confidence.label_confidence(X, centres, cluster, names)
    finished = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return finished - started, peak_mb


def print_table(table):
    shown = table.copy()
    shown["set"] = shown["set"].str.removeprefix("office-")
    columns = ["set", "model", "k", "n", "accuracy", "ceiling",
               *[f"auroc_{m}" for m in METHODS], *[f"gain_{m}" for m in METHODS]]
    print(shown[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nmedians over the sets and models (AUROC over those with a wrong label):")
    medians = table.groupby("k")[["accuracy", "ceiling", *[f"auroc_{m}" for m in METHODS],
                                  *[f"gain_{m}" for m in METHODS]]].median()
    print(medians.to_string(float_format=lambda v: f"{v:.3f}"))
    print("targets: AUROC >= 0.70, gain >= +0.04")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=416314, help="rows of the timing data")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    if not REAL.is_dir():
        sys.exit(f"label_confidence: the real descriptors are not at {REAL} "
                 "(shared/real beside the repository)")
    print_table(real_table())
    if not args.skip_timing:
        score, peak = seed_scale_timing(args.rows)
        print(f"\nseed scale, {args.rows} x 150 float32: label_confidence (k = 30) "
              f"{score:.1f} s; peak memory of the process {peak:.0f} MB")


if __name__ == "__main__":
    main()
