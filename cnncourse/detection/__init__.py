"""Object detection: the operations detectors are built from.

* :mod:`~cnncourse.detection.nms`: :func:`nms` (greedy non-maximum suppression, as a loop in
  :func:`nms_loop` and in parallel rounds) and :func:`batched_nms` (per class);
* :mod:`~cnncourse.detection.roi`: :func:`roi_pool` (Fast R-CNN) and :func:`roi_align` (Mask R-CNN).

Each equals its namesake in ``torchvision.ops`` (signature, conventions and
results; see ``tests/detection``).
"""

from cnncourse.detection.nms import batched_nms, nms, nms_loop
from cnncourse.detection.roi import roi_align, roi_pool

__all__ = ["batched_nms", "nms", "nms_loop", "roi_align", "roi_pool"]
