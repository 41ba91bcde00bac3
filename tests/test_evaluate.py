"""External validation and model ranking."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from descluster import evaluate
from descluster.attributes import attribute_codes, load_attribute_codes, save_attribute_codes


def test_purity_by_hand_and_against_crosstab():
    truth = ["a", "a", "b", "b", "b", "c"]
    labels = [0, 0, 0, 1, 1, 1]
    # cluster 0: a,a,b -> 2 ; cluster 1: b,b,c -> 2 ; purity 4/6
    assert evaluate.purity(truth, labels) == pytest.approx(4 / 6)
    table = pd.crosstab(np.asarray(labels), np.asarray(truth))
    assert evaluate.purity(truth, labels) == pytest.approx(table.max(axis=1).sum() / 6)


def test_missing_values_are_left_out(tmp_path):
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    aligned = pd.DataFrame({"paths": list("abcdefg"),
                            "colour": ["red", "red", "blue", "blue", "", "", ""],
                            "constant": ["x"] * 6 + [""],
                            "outlier": ["none", "glare"] + ["none"] * 5})
    save_attribute_codes(*attribute_codes(aligned), tmp_path / "codes.npz")
    codes, vocabularies = load_attribute_codes(tmp_path / "codes.npz")
    # a single-valued attribute says nothing; 'outlier' marks bad images, it is no attribute
    assert list(codes) == ["colour"]
    assert codes["colour"].tolist() == [0, 0, 1, 1, -1, -1, -1]
    assert vocabularies["colour"] == ["red", "blue"]
    rows = evaluate.validate_clustering(labels, codes)
    assert [r["attribute"] for r in rows] == ["colour"]  # a single-valued attribute says nothing
    assert rows[0]["n_labelled"] == 4
    assert rows[0]["ari"] == pytest.approx(1.0)
    assert rows[0]["purity"] == 1.0


def test_purity_by_attribute_leaves_unknown_rows_out():
    labels = np.array([0, 0, 0, 1, 1, 1])
    codes = {"type": np.array([0, 0, 1, 1, 1, -1]), "colour": np.array([-1, -1, -1, 2, 2, 0])}
    purity = evaluate.purity_by_attribute(labels, codes)
    assert purity == {"type": pytest.approx(4 / 5), "colour": pytest.approx(2 / 3)}


def test_rank_models_by_best_ari():
    validation = pd.DataFrame({
        "model": ["m1", "m1", "m2", "m3"], "pca": ["pca5", "pca5", "pca3", "var0.9"],
        "n_components": [5, 5, 3, 7], "k": [3, 5, 3, 3], "attribute": "object",
        "ari": [0.2, 0.6, 0.4, 0.9], "nmi": [0.3, 0.7, 0.5, 0.9],
    })
    ranking = evaluate.rank_models(validation)
    assert ranking["model"].tolist() == ["m3", "m1", "m2"]
    assert ranking["rank"].tolist() == [1, 2, 3]
    assert ranking.loc[1, "k"] == 5 and ranking.loc[1, "best_ari"] == 0.6


@pytest.mark.parametrize("n_classes, n_clusters", [(1, 1), (1, 4), (3, 1), (5, 7), (40, 3)])
def test_agreement_scores_equal_sklearns_from_the_labels(n_classes, n_clusters):
    """One contingency table gives scikit-learn's values, special cases included."""
    rng = np.random.default_rng(n_classes * 100 + n_clusters)
    truth = rng.integers(0, n_classes, 500)
    labels = np.where(rng.random(500) < 0.6, truth % n_clusters, rng.integers(0, n_clusters, 500))
    scores = evaluate.agreement_scores(truth, labels)
    assert scores["ari"] == pytest.approx(adjusted_rand_score(truth, labels), abs=1e-12)
    assert scores["nmi"] == pytest.approx(normalized_mutual_info_score(truth, labels), abs=1e-12)
    assert scores["v_measure"] == pytest.approx(v_measure_score(truth, labels), abs=1e-12)
    assert scores["purity"] == evaluate.purity(truth, labels)


def test_agreement_scores_take_any_hashable_values_and_skip_unused_codes():
    truth = np.array(["car", "car", "bus", "bus", "van"])
    labels = np.array([7, 7, 3, 3, 3])  # codes 0..2 and 4..6 unused
    assert evaluate.contingency_table(truth, labels).tolist() == [[2, 0], [0, 2], [1, 0]]
    assert evaluate.agreement_scores(truth, labels)["ari"] == pytest.approx(
        adjusted_rand_score(truth, labels))
