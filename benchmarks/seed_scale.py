"""The seed-scale benchmark: the whole study at the vehicle data's size, and its k-scan and
PCA beside the notebook way, in one command.

    python benchmarks/seed_scale.py [--out benchmarks/out] [--skip study kscan pca]

On data of the real size and shape (benchmarks/make_seed_data.py, written to OUT/data
unless it is there; 85 s, not counted) it runs, one after the other:

study  the default study (benchmarks/seed_config.yaml) with ``snakemake --cores 2`` in an
       emptied OUT/run: end-to-end time, and per rule its jobs, summed and longest wall
       time and peak memory, from Snakemake's benchmark files.
kscan  osnet at 150 components, k = 2..50, on the same reduced matrix: the workflow's way
       (its scan_k jobs, ``snakemake --cores 2 --forcerun scan_k``) and the notebooks' way
       (scikit-learn ``KMeans`` with default settings on all rows for every k, then
       Calinski-Harabasz and Davies-Bouldin on all rows). Time ratio, and per k the
       inertia and Calinski-Harabasz of both. With faiss-cpu installed, faiss's k-means
       on the workflow's samples is timed and scored beside the workflow's own fit.
pca    benchmarks/pca_vs_sklearn.py on efficientnet-b7, IncrementalPCA included; the
       in-memory methods load the original pickle, as the notebooks did.

It ends with every target of the "Seed scale" issue, measured, and whether it is met.
Each part needs the earlier parts' files only; ``--skip study`` reuses a finished OUT/run.
"""

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import make_seed_data
import pca_vs_sklearn
from descluster import clustering, demo
from descluster.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SEED_CONFIG = REPO / "benchmarks" / "seed_config.yaml"
KSCAN_MODEL, KSCAN_VARIANT = "osnet", "pca150"
PCA_MODEL, PCA_COMPONENTS = "efficientnet-b7", 250
MIB = 2 ** 20


def snakemake(run_dir, *arguments):
    """Run the workflow in ``run_dir`` with the seed config on 2 cores; seconds of wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *arguments,
                    "--configfile", str(SEED_CONFIG), "--cores", "2", "--quiet", "rules"],
                   cwd=run_dir, check=True)
    return time.perf_counter() - started


def rule_table(run_dir):
    """Per rule: jobs, summed and longest seconds, peak RSS (MiB), from results/benchmarks."""
    root = run_dir / "results" / "benchmarks"
    rows = [{"rule": path.relative_to(root).parts[0].removesuffix(".tsv"),
             "seconds": float(last["s"]), "max_rss_mib": float(last["max_rss"])}
            for path in root.rglob("*.tsv")
            for last in [pd.read_csv(path, sep="\t").iloc[-1]]]
    return (pd.DataFrame(rows).groupby("rule")
            .agg(jobs=("seconds", "size"), total_s=("seconds", "sum"), longest_s=("seconds", "max"),
                 max_rss_mib=("max_rss_mib", "max"))
            .sort_values("total_s", ascending=False))


def run_study(out, targets):
    """Part 'study': the whole study from an empty run directory."""
    run_dir = out / "run"
    for owned in (run_dir / "results", run_dir / ".snakemake"):
        shutil.rmtree(owned, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    print("\n== study: the default study config, snakemake --cores 2, from empty", flush=True)
    seconds = snakemake(run_dir)
    table = rule_table(run_dir)
    print(table.round(1).to_markdown())
    print(f"end to end: {seconds / 60:.1f} min ({seconds:.0f} s), {int(table['jobs'].sum())} jobs")
    largest_array_mib = max(demo.MODEL_DIMS.values()) * make_seed_data.SEED_N_IMAGES * 4 / MIB
    ingest_mib = table.loc["ingest_descriptors", "max_rss_mib"]
    others_mib = table.drop(index="ingest_descriptors")["max_rss_mib"].max()
    targets.append(("whole study end to end", f"{seconds / 60:.1f} min", "<= 15 min",
                    seconds <= 15 * 60))
    targets.append(("peak memory of ingest / largest array", f"{ingest_mib / largest_array_mib:.2f} x",
                    "<= 2.2 x", ingest_mib <= 2.2 * largest_array_mib))
    targets.append(("peak memory of every other job", f"{others_mib * MIB / 1e9:.2f} GB", "<= 3 GB",
                    others_mib * MIB <= 3e9))


def _baseline_scan(X, ks, seed):
    """The notebooks' k-scan: default KMeans on all rows, CH and DB on all rows, per k."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    rows = []
    for k in ks:
        started = time.perf_counter()
        model = KMeans(n_clusters=k, random_state=seed).fit(X)
        rows.append({"k": k, "inertia": model.inertia_,
                     "calinski_harabasz": calinski_harabasz_score(X, model.labels_),
                     "davies_bouldin": davies_bouldin_score(X, model.labels_),
                     "seconds": time.perf_counter() - started})
        print(f"  baseline k={k}: {rows[-1]['seconds']:.1f} s", flush=True)
    return pd.DataFrame(rows).set_index("k")


def _faiss_scan(X, ks, seed, clustering_config, baseline):
    """faiss's k-means and the workflow's fit on the workflow's samples, in this process."""
    import faiss

    rows = []
    for k in ks:
        n_fit = clustering.scan_fit_rows(k, clustering_config["kscan_rows_per_cluster"],
                                         clustering_config["kscan_min_rows"])
        sample = np.ascontiguousarray(X[clustering.sample_rows(len(X), n_fit, seed)])
        started = time.perf_counter()
        kmeans = faiss.Kmeans(X.shape[1], k, niter=25, nredo=clustering_config["kscan_n_init"],
                              seed=seed + 1, max_points_per_centroid=len(sample))
        kmeans.train(sample)
        faiss_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = clustering.fit_kmeans(X, k, seed, clustering_config["kscan_n_init"],
                                     clustering_config["max_iter"], n_fit).centroids
        ours_seconds = time.perf_counter() - started
        rows.append({"k": k, "faiss_s": faiss_seconds, "ours_s": ours_seconds,
                     "faiss_ratio": _inertia(X, kmeans.centroids) / baseline.loc[k, "inertia"],
                     "ours_ratio": _inertia(X, ours) / baseline.loc[k, "inertia"]})
    return pd.DataFrame(rows).set_index("k")


def _inertia(X, centroids):
    return float((clustering.assign(X, centroids)[1].astype(np.float64) ** 2).sum())


def run_kscan(out, targets):
    """Part 'kscan': the workflow's k-scan of one model variant beside the notebooks'."""
    run_dir = out / "run"
    config = yaml.safe_load(SEED_CONFIG.read_text())
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")  # fills defaults
    low, high = config["k_range"]
    ks = list(range(low, high + 1))
    reduced = f"results/pca/{KSCAN_MODEL}/{KSCAN_VARIANT}/reduced.npy"
    snakemake(run_dir, reduced)  # a no-op after the study
    print(f"\n== kscan: {KSCAN_MODEL} {KSCAN_VARIANT}, k = {low}..{high}", flush=True)
    rows = [f"results/kscan/{KSCAN_MODEL}/{KSCAN_VARIANT}/k{k}.tsv" for k in ks]
    workflow_seconds = snakemake(run_dir, *rows, "--forcerun", "scan_k", "--allowed-rules", "scan_k")
    ours = pd.concat([pd.read_csv(run_dir / row, sep="\t") for row in rows]).set_index("k")
    print(f"workflow: {len(ks)} scan_k jobs in {workflow_seconds:.1f} s (snakemake start included)",
          flush=True)

    started = time.perf_counter()
    X = np.load(run_dir / reduced)
    load_seconds = time.perf_counter() - started
    baseline = _baseline_scan(X, ks, config["seed"])
    baseline_seconds = baseline["seconds"].sum()

    table = pd.DataFrame({
        "baseline_s": baseline["seconds"],
        "inertia_baseline": baseline["inertia"],
        "inertia_workflow": ours["inertia"],
        "inertia_ratio": ours["inertia"] / baseline["inertia"],
        "ch_baseline": baseline["calinski_harabasz"],
        "ch_workflow": ours["calinski_harabasz"],
        "ch_ratio": ours["calinski_harabasz"] / baseline["calinski_harabasz"],
        "db_baseline": baseline["davies_bouldin"],
        "db_workflow": ours["davies_bouldin"],
    })
    print(table.to_markdown(floatfmt=".4g"))
    ratio = baseline_seconds / workflow_seconds
    median, worst = table["inertia_ratio"].median(), table["inertia_ratio"].max()
    print(f"baseline: {baseline_seconds:.1f} s (+ {load_seconds:.1f} s to load the matrix); "
          f"workflow: {workflow_seconds:.1f} s; baseline / workflow = {ratio:.2f} x")
    print(f"inertia workflow / baseline: median {median:.4f}, worst {worst:.4f}, "
          f"best {table['inertia_ratio'].min():.4f}; Calinski-Harabasz workflow / baseline: "
          f"median {table['ch_ratio'].median():.4f}")
    targets.append((f"k-scan {KSCAN_MODEL} {KSCAN_VARIANT}: baseline time / workflow time",
                    f"{ratio:.2f} x", ">= 3 x", ratio >= 3))
    targets.append(("k-scan inertia ratio, median over k", f"{median:.4f}", "<= 1.01", median <= 1.01))
    targets.append(("k-scan inertia ratio, worst k", f"{worst:.4f}", "<= 1.03", worst <= 1.03))

    try:
        import faiss  # noqa: F401 - optional
    except ImportError:
        print("faiss-cpu is not installed: its k-means is not compared")
        return
    compared = _faiss_scan(X, ks, config["seed"], config["clustering"], baseline)
    print(f"\nfaiss k-means (random init, 25 iterations, {config['clustering']['kscan_n_init']} "
          f"restarts) and the workflow's fit, on the workflow's samples, in this process:")
    print(f"fit time: faiss {compared['faiss_s'].sum():.1f} s, workflow's fit "
          f"{compared['ours_s'].sum():.1f} s; inertia / baseline: faiss median "
          f"{compared['faiss_ratio'].median():.4f} worst {compared['faiss_ratio'].max():.4f}, "
          f"workflow's fit median {compared['ours_ratio'].median():.4f} "
          f"worst {compared['ours_ratio'].max():.4f}")


def run_pca(out, targets):
    """Part 'pca': benchmarks/pca_vs_sklearn.py on the widest model."""
    parquet = out / "run" / "results" / "ingest" / f"{PCA_MODEL}.parquet"
    snakemake(out / "run", str(parquet.relative_to(out / "run")))  # a no-op after the study
    print(f"\n== pca: {PCA_MODEL} to {PCA_COMPONENTS} components", flush=True)
    result = pca_vs_sklearn.compare(parquet, PCA_COMPONENTS, incremental=True,
                                    pickle_path=out / "data" / "descriptors" / f"{PCA_MODEL}.pickle")
    targets.append(("PCA: IncrementalPCA time / workflow time",
                    f"{result['incremental'] / result['ours']:.1f} x", ">= 10 x",
                    result["incremental"] >= 10 * result["ours"]))
    targets.append(("PCA: sklearn default PCA time / workflow time",
                    f"{result['default'] / result['ours']:.1f} x", "> 1 x",
                    result["default"] > result["ours"]))
    targets.append(("PCA: explained variance against exact PCA",
                    f"{100 * result['explained_variance_gap']:+.4f} %", "within 0.1 %",
                    abs(result["explained_variance_gap"]) <= 0.001))
    targets.append(("PCA: largest principal angle, leading 50", f"{result['angle50']:.2f}°", "< 1°",
                    result["angle50"] < 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--skip", nargs="*", default=[], choices=["study", "kscan", "pca"])
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if not (out / "data" / "images_paths.csv").exists():
        make_seed_data.main([str(out / "data")])
    targets = []
    for name, part in (("study", run_study), ("kscan", run_kscan), ("pca", run_pca)):
        if name not in args.skip:
            part(out, targets)
    print("\n== targets")
    print(pd.DataFrame(targets, columns=["target", "measured", "wanted", "met"]).to_markdown(index=False))
    return 0 if all(met for *_, met in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
