"""The architectures of the course's case studies, by name.

>>> from cnncourse import models
>>> model = models.get("resnet18", num_classes=10)
"""

from cnncourse.models import alexnet, bagnet, densenet, googlenet, highway, lenet, mobilenet, resnet, vgg  # noqa: F401  (importing registers the models)
from cnncourse.models.registry import (
    check_state_dict, get, list_models, load_pretrained, min_input_size, pretrained_file,
)

__all__ = ["check_state_dict", "get", "list_models", "load_pretrained", "min_input_size", "pretrained_file"]
