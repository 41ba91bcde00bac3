"""A model's PCA: the workflow's streamed covariance PCA beside the notebook ways.

Runs, on one ingested descriptor file and in one invocation: the workflow's
``fit_covariance_pca`` streamed from Parquet; scikit-learn's in-memory ``PCA`` with its
default solver and with the exact ``covariance_eigh`` solver (on the array loaded into
memory, loading timed apart); and, with --incremental, ``IncrementalPCA`` in 32k-row
batches. Prints times, ratios and the agreement with the exact PCA: total explained
variance of the components and the largest principal angle between the leading
50-component subspaces.

    python benchmarks/pca_vs_sklearn.py results/ingest/efficientnet-b7.parquet [--components 250] [--incremental]
"""

import argparse
import time

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA, IncrementalPCA
from threadpoolctl import threadpool_info

from descluster import ingest, pca

LEADING = 50


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet")
    parser.add_argument("--components", type=int, default=250)
    parser.add_argument("--incremental", action="store_true", help="also time IncrementalPCA")
    args = parser.parse_args()
    n_rows, n_cols = ingest.descriptor_shape(args.parquet)
    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info())
    print(f"{args.parquet}: {n_rows} x {n_cols} -> {args.components} components ({blas})")

    ours, t_ours = timed(lambda: pca.fit_covariance_pca(
        ingest.iter_descriptor_batches(args.parquet, 16384), args.components))
    X, t_load = timed(lambda: np.concatenate(list(ingest.iter_descriptor_batches(args.parquet, 16384))))
    default, t_default = timed(lambda: PCA(args.components, random_state=0).fit(X))
    exact, t_exact = timed(lambda: PCA(args.components, svd_solver="covariance_eigh").fit(X))
    rows = [("descluster covariance PCA (streamed from Parquet)", t_ours, ours.components,
             ours.explained_variance_ratio[:args.components].sum()),
            (f"sklearn PCA, default solver ({default._fit_svd_solver}; + {t_load:.0f} s to load)",
             t_default, default.components_, default.explained_variance_ratio_.sum()),
            (f"sklearn PCA, covariance_eigh (exact; + {t_load:.0f} s to load)", t_exact,
             exact.components_, exact.explained_variance_ratio_.sum())]
    if args.incremental:
        def incremental():
            model = IncrementalPCA(args.components)
            for start in range(0, n_rows, 32768):
                model.partial_fit(X[start:start + 32768])
            return model
        ipca, t_ipca = timed(incremental)
        rows.append(("sklearn IncrementalPCA, 32k-row batches", t_ipca, ipca.components_,
                     ipca.explained_variance_ratio_.sum()))
    reference_ratio = exact.explained_variance_ratio_.sum()
    print(f"\n{'method':<62} {'seconds':>8} {'x ours':>7} {'variance':>9} {'vs exact':>9} {'angle50':>8}")
    for name, seconds, components, ratio in rows:
        angle = np.degrees(subspace_angles(components[:LEADING].T.astype(np.float64),
                                           exact.components_[:LEADING].T.astype(np.float64)).max())
        print(f"{name:<62} {seconds:8.1f} {seconds / t_ours:7.1f} {ratio:9.5f} "
              f"{100 * (ratio - reference_ratio) / reference_ratio:+8.4f}% {angle:7.4f}°")


if __name__ == "__main__":
    main()
