"""A model's PCA: the workflow's streamed covariance PCA beside the notebook ways.

Runs, on one ingested descriptor file and in one invocation: the workflow's
``fit_covariance_pca`` streamed from the ingested .npy file (reading included); scikit-learn's in-memory
``PCA`` with its default solver and with the exact ``covariance_eigh`` solver (on the
array loaded into memory, loading timed apart: from the original pickle with --pickle,
as the study's notebooks did, else from the ingested file); with --incremental,
``IncrementalPCA`` in 32k-row batches. The file is read once untimed first, so that every method finds it
in the page cache (a cold first read measured the disk, not the method). Prints times,
ratios and the agreement with the exact PCA: total explained variance of the
components and the largest principal angle between the leading 50-component subspaces.

    python benchmarks/pca_vs_sklearn.py results/ingest/efficientnet-b7.npy \
        [--components 250] [--incremental] [--pickle PATH]
"""

import argparse
import pickle
import time

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA, IncrementalPCA
from threadpoolctl import threadpool_info

from descluster import ingest, pca

LEADING = 50


def timed(function):
    """(result, seconds) of calling ``function()``."""
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def compare(ingested, n_components, incremental, pickle_path=None):
    """Fit every method on one ingested descriptor file and print the comparison.

    ``pickle_path``, when given, is the same descriptors' original pickle (one of the
    benchmark's own files): the in-memory methods load their array from it.

    Returns
    -------
    dict
        seconds per method key (ours, default, exact, load and, with ``incremental``,
        incremental), explained_variance_gap (ours against exact, relative) and
        angle50 (ours against exact, degrees).
    """
    n_rows, n_cols = ingest.descriptor_shape(ingested)
    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info())
    print(f"{ingested}: {n_rows} x {n_cols} -> {n_components} components ({blas})", flush=True)

    for _ in ingest.iter_descriptor_batches(ingested, 16384):
        pass
    ours, t_ours = timed(lambda: pca.fit_covariance_pca(
        ingest.iter_descriptor_batches(ingested, 16384), n_components))
    X, t_load = timed(lambda: _load_array(ingested, pickle_path))
    default, t_default = timed(lambda: PCA(n_components, random_state=0).fit(X))
    exact, t_exact = timed(lambda: PCA(n_components, svd_solver="covariance_eigh").fit(X))
    rows = [("ours", "descluster covariance PCA (streamed from the ingested file)", t_ours,
             ours.components, ours.explained_variance_ratio[:n_components].sum()),
            ("default", f"sklearn PCA, default solver ({default._fit_svd_solver})", t_default,
             default.components_, default.explained_variance_ratio_.sum()),
            ("exact", "sklearn PCA, covariance_eigh (exact)", t_exact, exact.components_,
             exact.explained_variance_ratio_.sum())]
    if incremental:
        def fit_incremental():
            model = IncrementalPCA(n_components)
            for start in range(0, n_rows, 32768):
                model.partial_fit(X[start:start + 32768])
            return model
        ipca, t_ipca = timed(fit_incremental)
        rows.append(("incremental", "sklearn IncrementalPCA, 32k-row batches", t_ipca,
                     ipca.components_, ipca.explained_variance_ratio_.sum()))

    reference_ratio = exact.explained_variance_ratio_.sum()
    print(f"in-memory methods: + {t_load:.1f} s to load the array from {pickle_path or ingested}")
    print(f"\n{'method':<56} {'seconds':>8} {'/ ours':>7} {'variance':>9} {'vs exact':>9} {'angle50':>8}")
    result = {"load": t_load}
    for key, name, seconds, components, ratio in rows:
        angle = np.degrees(subspace_angles(components[:LEADING].T.astype(np.float64),
                                           exact.components_[:LEADING].T.astype(np.float64)).max())
        gap = (ratio - reference_ratio) / reference_ratio
        print(f"{name:<56} {seconds:8.1f} {seconds / t_ours:7.1f} {ratio:9.5f} "
              f"{100 * gap:+8.4f}% {angle:7.4f}°")
        result[key] = seconds
        if key == "ours":
            result["explained_variance_gap"], result["angle50"] = gap, angle
    return result


def _load_array(ingested, pickle_path):
    """The descriptors as one in-memory float32 array, from the pickle if given."""
    if pickle_path is None:
        return np.concatenate(list(ingest.iter_descriptor_batches(ingested, 16384)))
    with open(pickle_path, "rb") as handle:
        return np.asarray(pickle.load(handle), dtype=np.float32)  # noqa: S301 - our own file


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ingested")
    parser.add_argument("--components", type=int, default=250)
    parser.add_argument("--incremental", action="store_true", help="also time IncrementalPCA")
    parser.add_argument("--pickle", help="load the in-memory methods' array from this pickle")
    args = parser.parse_args()
    compare(args.ingested, args.components, args.incremental, args.pickle)


if __name__ == "__main__":
    main()
