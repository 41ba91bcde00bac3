"""Contact sheets: member choice, unreadable images as placeholders."""

import numpy as np
from PIL import Image

from descluster import gallery


def test_pick_members():
    distances = np.array([5.0, 1, 9, 3, 7, 2, 8, 4, 6, 0])
    picked = gallery.pick_members(distances, 3, seed=0)
    assert picked["nearest"].tolist() == [9, 1, 5]
    assert picked["farthest"].tolist() == [2, 6, 4]
    assert not set(picked["random"]) & set(picked["nearest"]) | set(picked["farthest"]) & set(picked["random"])
    np.testing.assert_array_equal(picked["random"], gallery.pick_members(distances, 3, seed=0)["random"])


def test_missing_unreadable_and_good_images(tmp_path):
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "good.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    good, ok = gallery.load_tile(tmp_path, "good.jpg")
    assert ok and good.size == gallery.TILE
    assert good.getpixel((gallery.TILE[0] // 2, gallery.TILE[1] // 2))[0] > 200
    _, ok = gallery.load_tile(tmp_path, "broken.jpg")
    assert not ok
    _, ok = gallery.load_tile(tmp_path, "gone/missing.jpg")
    assert not ok
    _, ok = gallery.load_tile(None, "good.jpg")
    assert not ok
    sheet, placeholders = gallery.contact_sheet(
        {"nearest": ["good.jpg", "broken.jpg"], "random": ["gone.jpg"]}, tmp_path, "t")
    assert placeholders == 2
    assert sheet.size[1] == 18 + 2 * (gallery.TILE[1] + 2)


def test_nearest_clusters():
    centroids = np.array([[0.0, 0], [1, 0], [5, 0], [6, 0]])
    assert gallery.nearest_clusters(centroids, 2).tolist() == [[1, 2], [0, 2], [3, 1], [2, 1]]
