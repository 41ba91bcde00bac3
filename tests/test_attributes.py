"""Ground truth files: CSV and VeRi-Wild's vehicle_info.txt, matched to the images."""

import json

import numpy as np
import pandas as pd
import pytest

from descluster import demo, map_page, site
from descluster.attributes import (align_attributes, detect_format, image_keys, is_outlier_value,
                                   read_veriwild)
from descluster.errors import InputError
from descluster.steps.outliers import _outlier_summary

VERIWILD = """id/image;Camera ID;Time;Model;Type;Color
00001/000001;1;2018-03-11 12:48:44;Haval H6;SUV;white
00001/000002;3;2018-03-11 12:50:01;Haval H6;SUV;white
00002/000003;7;2018-03-12 08:01:10;Audi A6;sedan;black
09999/999999;2;2018-03-12 08:01:10;Audi A6;sedan;black
"""
PATHS = pd.Series(["veriwild/1/00001/000001.jpg", "veriwild/1/00001/000002.jpg",
                   "veriwild/10/00002/000003.jpg", "veriwild/2/00003/000004.jpg"])


def test_keys_are_the_last_two_parts_without_extension():
    assert image_keys(PATHS).tolist() == ["00001/000001", "00001/000002", "00002/000003",
                                          "00003/000004"]
    assert image_keys(pd.Series(["a.jpg", "x/y.z/b.png"])).tolist() == ["a", "y.z/b"]


def test_veriwild_file_is_read_as_it_is(tmp_path):
    path = tmp_path / "vehicle_info.txt"
    path.write_text(VERIWILD)
    assert detect_format(path) == "veriwild"
    table = read_veriwild(path, ["type", "colour", "camera"])
    assert list(table.columns) == ["key", "type", "colour", "camera"]
    assert table.iloc[2].tolist() == ["00002/000003", "sedan", "black", "7"]


def test_veriwild_aligns_with_windows_paths_and_counts_what_does_not_match(tmp_path):
    path = tmp_path / "vehicle_info.txt"
    path.write_text(VERIWILD)
    aligned, matches = align_attributes(PATHS, [(path, "auto")], ["type", "colour", "camera"])
    assert aligned["paths"].tolist() == PATHS.tolist()
    assert aligned["type"].tolist() == ["SUV", "SUV", "sedan", ""]
    assert aligned["colour"].tolist() == ["white", "white", "black", ""]
    row = matches.iloc[0]
    assert (row["format"], row["rows"], row["rows_matched"], row["rows_unmatched"],
            row["images_without_row"], row["example_unmatched_row"]) == (
        "veriwild", 4, 3, 1, 1, "09999/999999")


def test_csv_and_veriwild_files_combine_but_share_no_column(tmp_path):
    info = tmp_path / "vehicle_info.txt"
    info.write_text(VERIWILD)
    views = tmp_path / "views.csv"
    views.write_text("paths,view,outlier\n" + "".join(
        f"{p.replace('/', chr(92))},front,none\n" for p in PATHS))
    aligned, _ = align_attributes(PATHS, [(info, "auto"), (views, "auto")], ["type"])
    assert list(aligned.columns) == ["paths", "type", "view", "outlier"]
    assert aligned["view"].tolist() == ["front"] * 4
    clash = tmp_path / "types.csv"
    clash.write_text("paths,type\n" + "".join(f"{p},van\n" for p in PATHS))
    with pytest.raises(InputError, match=r"types.csv: column 'type' is also in .*vehicle_info.txt"):
        align_attributes(PATHS, [(info, "veriwild"), (clash, "csv")], ["type"])


def test_a_file_for_other_images_stops_with_an_example(tmp_path):
    path = tmp_path / "vehicle_info.txt"
    path.write_text(VERIWILD)
    others = pd.Series([f"cars/{i}.jpg" for i in range(4)])
    with pytest.raises(InputError, match=(
            r"vehicle_info.txt: 4 of 4 images match no row \(e.g. image 'cars/0.jpg', looked up "
            r"as key 'cars/0'; the file's row '00001/000001' matches no image\)")):
        align_attributes(others, [(path, "auto")], ["type"])


@pytest.mark.parametrize("text, message", [
    ("id/image;Camera;Time;Model;Type;Color\n1/1;1;t;m;SUV;red\n", r"header .* expected 'id/image;Camera ID"),
    ("id/image;Camera ID;Time;Model;Type;Color\n1/1;1;t;m;SUV\n", r"line 2: expected 6 fields"),
    ("id/image;Camera ID;Time;Model;Type;Color\n1/1;1;t;m;SUV;red\n1/1;2;t;m;SUV;red\n",
     r"lines 2 and 3: key '1/1' is listed twice"),
])
def test_bad_veriwild_files_name_the_line(tmp_path, text, message):
    path = tmp_path / "vehicle_info.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_veriwild(path, ["type"])


def test_demo_writes_its_ground_truth_in_veriwild_format(tmp_path):
    attributes = demo.make_attributes(300, seed=0)
    demo.write_ground_truth(attributes, tmp_path / "vehicle_info.txt", tmp_path / "extra.csv")
    paths = attributes["paths"].str.replace("\\", "/")
    aligned, matches = align_attributes(
        paths, [(tmp_path / "vehicle_info.txt", "auto"), (tmp_path / "extra.csv", "auto")],
        ["type", "colour"])
    assert matches["images_without_row"].tolist() == [0, 0]
    for column in ("type", "colour", "view", "outlier"):
        np.testing.assert_array_equal(aligned[column].to_numpy(), attributes[column].to_numpy())


@pytest.mark.parametrize("value, bad", [
    (None, False), (np.nan, False), ("", False), ("none", False), ("None", False),
    ("NONE", False), (" none ", False), ("no", False), ("No", False), ("false", False),
    ("0", False), ("glare", True), (" Glare ", True), ("no_vehicle", True), ("night", True),
])
def test_which_ground_truth_outlier_values_mark_a_bad_image(value, bad):
    assert is_outlier_value([value]).tolist() == [bad]


def test_outlier_values_of_a_column_give_one_flag_per_row():
    column = pd.Series(["glare", None, "no"], index=[7, 3, 5])  # any index: rows count
    flags = is_outlier_value(column)
    assert isinstance(flags, np.ndarray) and flags.dtype == bool
    assert flags.tolist() == [True, False, False]
    assert is_outlier_value([]).shape == (0,)


def test_outlier_summary_cards_outliers_page_and_map_agree_on_the_bad_images(tmp_path):
    values = [None, "no", "NONE", "", np.nan, "glare", " night ", "false", "0", "Glare", "none"]
    bad = np.array([False, False, False, False, False, True, True, False, False, True, False])
    paths = [f"img{i}.jpg" for i in range(len(values))]
    truth = pd.DataFrame({"paths": paths, "outlier": pd.Series(values, dtype=object)})
    truth.to_parquet(tmp_path / "attributes.parquet")
    scores = pd.DataFrame({"paths": paths, "score_m_pca2": np.arange(len(paths), dtype=float),
                           "n_models_flagging": bad.astype(int),
                           "combined_score": np.arange(len(paths), dtype=float), "flag": bad})
    # outliers.tsv: flagging exactly the bad images is right and complete
    summary = _outlier_summary({"combined": (bad, 5.0)}, 0.5, tmp_path / "attributes.parquet")
    overall = summary.iloc[0]
    assert (overall["kind"], overall["n_true"]) == ("all", bad.sum())
    assert overall["precision"] == 1.0 and overall["recall"] == 1.0
    assert summary["kind"].tolist() == ["all", "glare", "night"]
    # the cards: one image per cluster, so the clusters with an outlier kind are the bad images
    cards = site.summaries(np.arange(len(paths)), site.encode_attributes(truth, None))["truthOutliers"]
    assert sorted(cards) == np.flatnonzero(bad).tolist()
    # the map's colouring by outlier kind
    kinds = next(entry for entry in map_page.colourings([], truth, scores, None, "score_m_pca2")
                 if entry["name"] == "outlier kind")
    shown = [kinds["values"][code] for code in site.unpack(kinds["codes"], np.uint8)]
    assert [kind != "" for kind in shown] == bad.tolist()
    # the outliers page lists every flagged image (here all) with its kind
    (tmp_path / "files").mkdir()
    report = site.Report(tmp_path, tmp_path / "files", tmp_path / "files", None,
                         tmp_path / "paths.js")
    site.write_outliers(report, scores.assign(flag=True), truth, summary, tmp_path / "sheet.jpg",
                        [], tmp_path / "outliers.html")
    text = (tmp_path / "files" / "data" / "outliers.js").read_text(encoding="utf-8")
    rows = json.loads(text[text.index("(") + 1:text.rindex(")")])["rows"]
    kind_of = {row[1]: row[4] for row in rows}
    assert [kind_of[path] != "" for path in paths] == bad.tolist()
