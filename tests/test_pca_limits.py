"""fit_pca before and after fitting: memory that grows with d squared, variances float32
cannot hold, and errors that name the user's file rather than the ingested one."""

import numpy as np
import pytest

from descluster import ingest
from descluster.errors import InputError
from descluster.steps import pca as pca_step


def ingested(tmp_path, array):
    """An ingested descriptor file made from ``array`` (unchecked)."""
    ingest.write_descriptor_npy(array, tmp_path / "osnet.npy")
    return tmp_path / "osnet.npy"


def fit(tmp_path, ingested_npy, method="covariance", batch_rows=64):
    """fit_pca as its rule calls it: the user's file, as configured, is the source."""
    pca_step.fit_pca(descriptors_npy=ingested_npy, source="mine/osnet.pickle", variants=[2],
                     method=method, batch_rows=batch_rows, model="osnet", out_fit=tmp_path / "pca.npz",
                     out_curve=tmp_path / "curve.tsv", out_variants=tmp_path / "variants.tsv")


def test_variances_lost_to_float32_underflow_name_the_file_and_say_rescale(tmp_path):
    # (ingest refuses such values already: check_descriptor_array; this is the fit's own check)
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(200, 6)) * 1e-25).astype(np.float32)  # products ~1e-50
    with pytest.raises(InputError, match=r"^mine/osnet\.pickle: the descriptors vary too little for "
                                         r"a float32 PCA .*rescale the descriptors \(multiply them "
                                         r"by a constant, e\.g\. 1e\+2\d\)$"):
        fit(tmp_path, ingested(tmp_path, array))
    assert not (tmp_path / "pca.npz").exists()
    fit(tmp_path, ingested(tmp_path, array.astype(np.float64) * 1e25))
    assert (tmp_path / "pca.npz").exists()


def test_a_covariance_fit_larger_than_memory_says_use_incremental(tmp_path, monkeypatch):
    array = np.random.default_rng(0).normal(size=(100, 40)).astype(np.float32)
    descriptors = ingested(tmp_path, array)
    needed = pca_step.fit_memory_bytes(40, 64, "covariance")
    monkeypatch.setattr(pca_step, "machine_memory_bytes", lambda: needed - 1)
    with pytest.raises(InputError, match=r"^mine/osnet\.pickle: 40 columns need about .* GiB for "
                                         r"pca_method: covariance .*set pca_method: incremental"):
        fit(tmp_path, descriptors)
    fit(tmp_path, descriptors, method="incremental")  # needs no d x d matrix
    assert (tmp_path / "pca.npz").exists()


def test_memory_grows_with_the_square_of_the_width():
    small, large = (pca_step.fit_memory_bytes(d, 16384, "covariance") for d in (2560, 12000))
    assert large - pca_step.fit_memory_bytes(12000, 16384, "incremental") == 56 * 12000 ** 2
    # 200 x 12,000 took 5.7 GB: the model asks at least that
    assert large > 5.7e9 and small < 2e9
    assert pca_step.machine_memory_bytes() > 0


def test_a_value_refused_in_the_fit_names_the_users_file(tmp_path):
    limit = ingest.value_limit(4)
    array = np.random.default_rng(0).uniform(-0.9, 0.9, size=(2000, 4)).astype(np.float32)
    with np.errstate(over="ignore"):
        with pytest.raises(InputError, match=r"^mine/osnet\.pickle: PCA: the descriptors' sums of "
                                             r"squares overflow float32"):
            fit(tmp_path, ingested(tmp_path, array * np.float32(limit)), batch_rows=1000)
