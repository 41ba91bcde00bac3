"""The step functions chained in-process on a tiny dataset, as the rules chain them: the quick
loop's check that every stage's step module runs and hands the next one what it reads (the
slow tests run the same chain through Snakemake)."""

import numpy as np
import pandas as pd
import pytest

from descluster.steps import ingest, kmeans, kscan, labels, map, outliers, pca, site, validate

N_IMAGES, DIM, K_VALUES, SEED = 240, 12, (2, 3, 4), 0


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """Run ingest -> PCA -> k-scan -> KMeans -> validation -> cards, template, outlier
    scores, gallery, paths and map layout on 3 planted groups; the folder of outputs."""
    out = tmp_path_factory.mktemp("steps")
    rng = np.random.default_rng(SEED)
    group = np.repeat(np.arange(3), N_IMAGES // 3)
    vectors = (rng.normal(size=(3, DIM)) * 6)[group] + rng.normal(size=(N_IMAGES, DIM))
    np.save(out / "desc.npy", vectors.astype(np.float32))
    paths = [f"veriwild\\1\\{i // 10:05d}\\{i:06d}.jpg" for i in range(N_IMAGES)]
    pd.DataFrame({"paths": paths}).to_csv(out / "paths.csv", index=False)
    pd.DataFrame({"paths": paths, "type": np.array(["sedan", "suv", "bus"])[group],
                  "outlier": ["glare" if i % 60 == 0 else "none" for i in range(N_IMAGES)]}
                 ).to_csv(out / "truth.csv", index=False)

    ingest.ingest_paths(paths_csv=out / "paths.csv", out_parquet=out / "images.parquet")
    ingest.ingest_descriptors(descriptor_path=out / "desc.npy", images_parquet=out / "images.parquet",
                              out_npy=out / "ingested.npy")
    ingest.ingest_attributes(files=[(out / "truth.csv", "auto")], images_parquet=out / "images.parquet",
                             veriwild_columns=[], out_parquet=out / "attributes.parquet",
                             out_codes=out / "codes.npz", out_matches=out / "matches.tsv")
    pca.fit_pca(descriptors_npy=out / "ingested.npy", source="desc.npy", variants=[4], method="covariance",
                batch_rows=100, model="m", out_fit=out / "fit.npz", out_curve=out / "curve.tsv",
                out_variants=out / "variants.tsv")
    pca.reduce_pca(descriptors_npy=out / "ingested.npy", fit_path=out / "fit.npz",
                   variants_tsv=out / "variants.tsv", variant="pca4", batch_rows=100,
                   out_npy=out / "reduced.npy", out_residual=out / "residual.npy")
    for k in K_VALUES:
        kscan.scan_k(reduced_npy=out / "reduced.npy", model="m", variant="pca4", k=k, seed=SEED,
                     n_init=2, max_iter=100, rows_per_cluster=0, min_rows=0, silhouette_sample=100,
                     out_tsv=out / f"k{k}.tsv", out_centroids=out / f"k{k}_centroids.npy",
                     attribute_codes=out / "codes.npz")
    kscan.summarize_kscan(row_tsvs=[out / f"k{k}.tsv" for k in K_VALUES], out_scan=out / "kscan.tsv",
                          out_suggested=out / "suggested.tsv", out_effort=out / "effort.tsv")
    kscan.plot_kscan(scan_tsv=out / "kscan.tsv", suggested_tsv=out / "suggested.tsv", model="m",
                     out_png=out / "kscan.png", final_ks=[3])
    kscan.plot_labelling_effort(effort_tsv=out / "effort.tsv", model="m", out_png=out / "effort.png",
                                final_ks=[3])
    kscan.concat_tables(tsvs=[out / "kscan.tsv"], out_tsv=out / "kscan_all.tsv")
    final = out / "k3"
    final.mkdir()
    kmeans.cluster_kmeans(reduced_npy=out / "reduced.npy", images_parquet=out / "images.parquet",
                          model="m", variant="pca4", k=3, seed=SEED, n_init=2, max_iter=100,
                          scan_n_init=2, scan_rows=0,
                          out_assignments=final / "assignments.parquet",
                          out_centroids=final / "centroids.npy", out_sizes=final / "sizes.tsv",
                          out_fit=final / "fit.tsv", scan_centroids=out / "k3_centroids.npy")
    kmeans.summarize_model(variants_tsv=out / "variants.tsv", suggested_tsv=out / "suggested.tsv",
                           sizes_tsvs=[final / "sizes.tsv"], final_clusterings=[("pca4", 3)],
                           model="m", out_tsv=out / "digest.tsv")
    validate.validate_clusterings(assignment_parquets=[final / "assignments.parquet"],
                                  attribute_codes=out / "codes.npz", out_validation=out / "validation.tsv",
                                  out_ranking=out / "ranking.tsv", out_recommended=out / "recommended.tsv")
    validate.compare_clusterings(assignment_parquets=[final / "assignments.parquet"] * 2,
                                 out_tsv=out / "agreement.tsv", out_plot=out / "agreement.png")
    labels.draw_cards(assignments_parquet=final / "assignments.parquet",
                      centroids_npy=final / "centroids.npy", sizes_tsv=final / "sizes.tsv",
                      images_root=None, seed=SEED,
                      out_cards=out / "cards.tsv", out_sheets=out / "sheets")
    labels.make_label_template(sizes_tsv=final / "sizes.tsv", model="m", variant="pca4", k=3,
                               label_attributes=["type", "view"], out_yaml=out / "template.yaml")
    outliers.score_outliers(reduced_npy=out / "reduced.npy", residual_npy=out / "residual.npy",
                            fit_path=out / "fit.npz", assignments_parquet=final / "assignments.parquet",
                            sizes_tsv=final / "sizes.tsv", n_neighbours=5, reference_sample=200,
                            tiny_fraction=0.25, seed=SEED, out_scores=out / "scores.parquet")
    site.write_paths(images_parquet=out / "images.parquet", images_root=None, out_script=out / "paths.js")
    site.write_gallery(assignments_parquet=final / "assignments.parquet", page_stem="m_pca4_k3",
                       out_folder=out / "gallery")
    map.layout_map(reduced_npy=out / "reduced.npy", seed=SEED, out_npy=out / "layout.npy")
    return out


def test_the_chain_finds_the_planted_groups(chain):
    scan = pd.read_csv(chain / "kscan.tsv", sep="\t")
    assert scan["k"].tolist() == list(K_VALUES)
    best = scan.loc[scan["calinski_harabasz"].idxmax(), "k"]
    assert best == 3
    validation = pd.read_csv(chain / "validation.tsv", sep="\t")
    assert validation.set_index("attribute").loc["type", "ari"] == pytest.approx(1.0)
    recommended = pd.read_csv(chain / "recommended.tsv", sep="\t")
    assert recommended["clustering"].tolist() == ["m/pca4/k3"]


def test_the_final_clustering_is_never_worse_than_the_scan(chain):
    fit = pd.read_csv(chain / "k3" / "fit.tsv", sep="\t").iloc[0]
    assert fit["inertia"] <= fit["kscan_inertia"] * (1 + 1e-6)
    sizes = pd.read_csv(chain / "k3" / "sizes.tsv", sep="\t")
    assert sizes["size"].sum() == N_IMAGES and sorted(sizes["size"]) == [80, 80, 80]


def test_every_stage_wrote_what_the_next_reads(chain):
    assert np.load(chain / "reduced.npy").shape == (N_IMAGES, 4)
    assert np.load(chain / "layout.npy").shape == (N_IMAGES, 2)
    assert len(pd.read_parquet(chain / "scores.parquet")) == N_IMAGES
    assert len(pd.read_csv(chain / "cards.tsv", sep="\t")) == 3
    assert "clustering: m/pca4/k3" in (chain / "template.yaml").read_text(encoding="utf-8")
    assert sorted(p.name for p in (chain / "gallery").iterdir()) == ["c0_0.js", "c1_0.js", "c2_0.js"]
    assert (chain / "paths.js").stat().st_size > 0
    assert (chain / "kscan.png").stat().st_size > 0 and (chain / "agreement.png").stat().st_size > 0
