"""Ground truth files: CSV and VeRi-Wild's vehicle_info.txt, matched to the images."""

import numpy as np
import pandas as pd
import pytest

from descluster import demo
from descluster.attributes import align_attributes, detect_format, image_keys, read_veriwild
from descluster.errors import InputError

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
