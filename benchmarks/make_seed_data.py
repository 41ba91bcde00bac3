"""Generate seed-scale data: the demo generator at the vehicle data's real size.

416,314 images, four descriptor pickles of 2560/512/128/512 float32 columns (protocol 4,
as the real files), images_paths.csv, vehicle_info.txt and attributes.csv; no thumbnails. About 6.2 GB.

    python benchmarks/make_seed_data.py OUT_DIR [--n-images 416314] [--seed 0] [--models osnet ...]
"""

import argparse
import logging
import sys
import time
from pathlib import Path

from descluster import demo
from descluster.steps.demo import make_demo

SEED_N_IMAGES = 416_314


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--n-images", type=int, default=SEED_N_IMAGES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(demo.MODEL_DIMS), choices=list(demo.MODEL_DIMS),
                        help="descriptor models to write (default: all four)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    make_demo(
        descriptor_paths={m: args.out_dir / "descriptors" / f"{m}.pickle" for m in args.models},
        paths_csv=args.out_dir / "images_paths.csv",
        vehicle_info_txt=args.out_dir / "vehicle_info.txt",
        attributes_csv=args.out_dir / "attributes.csv",
        images_dir=args.out_dir / "images",
        n_images=args.n_images,
        seed=args.seed,
        thumbnails=False,
    )
    print(f"generated {args.n_images} images in {time.perf_counter() - started:.0f} s "
          f"under {args.out_dir}")


if __name__ == "__main__":
    sys.exit(main())
