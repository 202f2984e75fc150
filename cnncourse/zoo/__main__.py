"""Train (or load) the zoo's networks ahead of time and print what each scored.

    python -m cnncourse.zoo                      # every network, in the active profile
    python -m cnncourse.zoo unet_shapes fcn8s_shapes
    CNNCOURSE_PROFILE=full CNNCOURSE_CACHE=/path python -m cnncourse.zoo

An instructor runs it once before a lecture, so the chapters load cached
networks; a network already in the cache is loaded, not retrained, and its
recorded training time is printed.
"""

import argparse

from cnncourse import zoo
from cnncourse.runtime import profile


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cnncourse.zoo", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="networks to train or load (default: all); see zoo.list()")
    names = parser.parse_args(argv).names or zoo.list()
    unknown = [name for name in names if name not in zoo.list()]
    if unknown:
        parser.error(f"unknown network(s) {unknown}; the zoo has {zoo.list()}")
    print(f"profile {profile().name}, cache {zoo.cache_dir()}")
    for name in names:
        info = zoo.load(name, progress=False).zoo_info
        scores = {k: info[k] for k in ("test_accuracy", "miou", "miou_edges", "pixel_accuracy", "map50", "map_coco",
                                         "mask_map50", "mask_map_coco") if k in info}
        shown = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
        print(f"{name:26} trained in {info.get('train_seconds', 0):7.1f} s  {shown}", flush=True)


if __name__ == "__main__":
    main()
