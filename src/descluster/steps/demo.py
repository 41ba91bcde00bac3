"""Steps of workflow/rules/demo.smk: the embedded demo dataset."""

import logging

from descluster import demo
from descluster.files import atomic_directory, write_table

log = logging.getLogger(__name__)


def make_demo(*, descriptor_paths, paths_csv, vehicle_info_txt, attributes_csv, images_dir,
              n_images, seed, thumbnails):
    """Write the demo dataset.

    Parameters
    ----------
    descriptor_paths : dict of str -> path
        One pickle per demo model (keys of :data:`descluster.demo.MODEL_DIMS`).
    vehicle_info_txt, attributes_csv : path
        Ground truth, see :func:`descluster.demo.write_ground_truth`.
    images_dir : path
        Folder of the thumbnails (created empty when ``thumbnails`` is false).
    """
    attributes = demo.make_attributes(n_images, seed)
    for model, path in descriptor_paths.items():
        demo.write_pickle(demo.make_descriptors(attributes, model, seed), path)
    write_table(attributes[["paths"]], paths_csv, sep=",")
    demo.write_ground_truth(attributes, vehicle_info_txt, attributes_csv)
    with atomic_directory(images_dir) as staging:
        if thumbnails:
            demo.write_thumbnails(attributes, staging, seed)
    log.info("demo: %d images, %d models", n_images, len(descriptor_paths))
