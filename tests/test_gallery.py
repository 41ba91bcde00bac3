"""Contact sheets: member choice; images that cannot or must not be read as placeholders."""

import json
import logging
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image, JpegImagePlugin

from descluster import gallery, site
from descluster.steps.site import write_paths


def test_pick_members():
    distances = np.array([5.0, 1, 9, 3, 7, 2, 8, 4, 6, 0])
    picked = gallery.pick_members(distances, 3, seed=0)
    assert picked["nearest"].tolist() == [9, 1, 5]
    assert picked["farthest"].tolist() == [2, 6, 4]
    random = set(picked["random"])
    assert not random & set(picked["nearest"]) | set(picked["farthest"]) & random
    np.testing.assert_array_equal(picked["random"], gallery.pick_members(distances, 3, seed=0)["random"])


@pytest.mark.parametrize("n_members", [5, 40, 1000])  # all sorted below 3 x 8, else not
def test_pick_members_ends_are_a_stable_sorts_ties_included(n_members):
    distances = np.random.default_rng(n_members).integers(0, 4, n_members).astype(np.float32)
    order = np.argsort(distances, kind="stable")
    picked = gallery.pick_members(distances, 8, seed=1)
    assert picked["nearest"].tolist() == order[:8].tolist()
    assert picked["farthest"].tolist() == order[::-1][:8].tolist()
    if n_members >= 24:
        assert not set(picked["random"]) & (set(order[:8]) | set(order[::-1][:8]))


def test_missing_unreadable_and_good_images(tmp_path):
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "good.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    good, problem = gallery.load_tile(tmp_path, "good.jpg")
    assert problem is None and good.size == gallery.TILE
    assert good.getpixel((gallery.TILE[0] // 2, gallery.TILE[1] // 2))[0] > 200
    assert gallery.load_tile(tmp_path, "broken.jpg")[1] == "unreadable"
    assert gallery.load_tile(tmp_path, "gone/missing.jpg")[1] == "missing"
    assert gallery.load_tile(None, "good.jpg")[1] == "no images.root"
    sheet, placeholders = gallery.contact_sheet(
        {"nearest": ["good.jpg", "broken.jpg"], "random": ["gone.jpg"]}, tmp_path, "t")
    assert placeholders == 2
    assert sheet.size[1] == 18 + 2 * (gallery.TILE[1] + 2)


@pytest.fixture
def root_with_a_secret_beside(tmp_path):
    """images.root holding one good image, and an image outside it that must never be read."""
    root = tmp_path / "images"
    root.mkdir()
    Image.new("RGB", (20, 20), (0, 255, 0)).save(root / "inside.png")
    Image.new("RGB", (20, 20), (255, 0, 0)).save(tmp_path / "secret.png")
    (root / "sub").mkdir()
    os.symlink(tmp_path / "secret.png", root / "sub" / "link.png")
    os.symlink(tmp_path, root / "up")
    os.symlink(root / "inside.png", root / "sub" / "inner-link.png")
    return root


@pytest.mark.parametrize("path", ["../secret.png", "sub/../../secret.png", "sub/link.png",
                                  "up/secret.png", "SECRET_ABSOLUTE", ".."])
def test_paths_leading_out_of_the_root_are_never_opened(root_with_a_secret_beside, path,
                                                        monkeypatch):
    root = root_with_a_secret_beside
    if path == "SECRET_ABSOLUTE":
        path = str(root.parent / "secret.png")
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda file, *a, **k: opened.append(file) or real_open(file, *a, **k))
    tile, problem = gallery.load_tile(root, path)
    assert problem == "outside root"
    assert opened == []
    assert tile.getpixel((3, gallery.TILE[1] - 4))[0] < 250  # the grey placeholder, not the red secret


def test_symlink_inside_the_root_is_followed(root_with_a_secret_beside):
    tile, problem = gallery.load_tile(root_with_a_secret_beside, "sub/inner-link.png")
    assert problem is None
    assert tile.getpixel((gallery.TILE[0] // 2, gallery.TILE[1] // 2))[1] > 200


def test_contact_sheet_warns_with_counts(root_with_a_secret_beside, caplog):
    root = root_with_a_secret_beside
    with caplog.at_level(logging.WARNING, logger="descluster.gallery"):
        _, placeholders = gallery.contact_sheet(
            {"nearest": ["inside.png", "../secret.png", "sub/link.png", "missing.png"]}, root, "c0")
    assert placeholders == 3
    assert "c0: images not opened or not decoded (placeholders shown): 2 outside root" in caplog.text


def test_fifo_is_not_opened_and_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    result = []
    worker = threading.Thread(target=lambda: result.append(gallery.load_tile(tmp_path, "pipe.jpg")),
                              daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert result[0][1] == "not a file"


def test_directory_and_device_are_not_files(tmp_path):
    (tmp_path / "folder.jpg").mkdir()
    assert gallery.load_tile(tmp_path, "folder.jpg")[1] == "not a file"
    os.symlink("/dev/zero", tmp_path / "zero.jpg")  # resolves outside the root
    assert gallery.load_tile(tmp_path, "zero.jpg")[1] == "outside root"
    assert gallery.load_tile("/dev", "zero")[1] == "not a file"


def test_decompression_bomb_is_a_placeholder(tmp_path):
    """A PNG of 20000 x 20000 pixels (400 M) in a few hundred kilobytes is never decoded."""
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 2_000_000
    assert gallery.load_tile(tmp_path, "bomb.png")[1] == "too large"


def test_image_over_the_pixel_bound_is_not_decoded(tmp_path, monkeypatch):
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")
    monkeypatch.setattr(gallery, "MAX_PIXELS", 9999)
    assert gallery.load_tile(tmp_path, "big.png")[1] == "too large"


def test_only_raster_formats_are_decoded(tmp_path):
    (tmp_path / "page.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    assert gallery.load_tile(tmp_path, "page.jpg")[1] == "unreadable"


def test_slow_decoding_is_stopped(tmp_path, monkeypatch):
    Image.new("RGB", (40, 30)).save(tmp_path / "slow.jpg")
    monkeypatch.setattr(gallery, "DECODE_SECONDS", 0.2)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", lambda self: time.sleep(30))
    assert gallery.load_tile(tmp_path, "slow.jpg")[1] == "timed out"


def test_any_decoder_failure_is_a_placeholder(tmp_path, monkeypatch):
    Image.new("RGB", (40, 30)).save(tmp_path / "odd.jpg")

    def fail(self):
        raise SyntaxError("a decoder bug")

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", fail)
    assert gallery.load_tile(tmp_path, "odd.jpg")[1] == "unreadable"


def test_nearest_clusters():
    centroids = np.array([[0.0, 0], [1, 0], [5, 0], [6, 0]])
    assert gallery.nearest_clusters(centroids, 2).tolist() == [[1, 2], [0, 2], [3, 1], [2, 1]]


def test_the_pages_show_only_originals_the_workflow_checked(root_with_a_secret_beside, tmp_path):
    """write_paths lists the rows whose original a page must not show: outside images.root
    through a symlink, a FIFO, a picture too large to decode safely, a missing file."""
    root = root_with_a_secret_beside
    os.symlink(tmp_path / "secret.png", root / "escape.png")
    os.mkfifo(root / "pipe.png")
    Image.new("1", (20000, 20000)).save(root / "bomb.png")
    paths = ["inside.png", "escape.png", "pipe.png", "bomb.png", "gone.png"]
    assert [gallery.original_problem(root, p) for p in paths] == [
        None, "outside root", "not a file", "too large", "missing"]

    images = tmp_path / "images.parquet"
    pd.DataFrame({"paths": paths}).to_parquet(images)
    script = tmp_path / "paths.js"
    write_paths(images_parquet=images, images_root=str(root), out_script=script)
    text = script.read_text(encoding="utf-8")
    payload = json.loads(text[text.index("{"):text.rindex("}") + 1])
    assert site.unpack(payload["refused"], np.uint32).tolist() == [1, 2, 3, 4]
    write_paths(images_parquet=images, images_root=None, out_script=script)  # no originals shown
    text = script.read_text(encoding="utf-8")
    assert site.unpack(json.loads(text[text.index("{"):text.rindex("}") + 1])["refused"],
                       np.uint32).tolist() == []
