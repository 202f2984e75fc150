"""Data that needs no download: embedded real images and digits, generated scenes.

* :func:`digits`: scikit-learn's 1,797 handwritten digits, resized, fixed split;
* :func:`sample_image` / :func:`sample_images`: photos and textures shipped in
  scikit-image and scikit-learn; :func:`square_image`: one of them as a colour square;
  :func:`faces`: scikit-image's 100 faces and 100 non-faces (25 x 25, grey), a small real task;
* :func:`shapes`: a seeded scene generator with boxes, masks and keypoints;
  :func:`single_objects`: one shape per scene, as tensors, for classification and localisation;
  :func:`segmentation_scenes`: (image, per-pixel label) tensors for segmentation;
  :func:`contains_shape`: several shapes per scene, labelled by whether one class is among them;
* :func:`cue_conflict`: texture-filled silhouettes, consistent, cue-conflict or
  with random textures, and :func:`shape_bias`, Geirhos et al.'s metric;
* :func:`figures` / :func:`figure_tensors`: articulated stick figures with 14 joints, for pose;
* :func:`rooms` / :func:`room_tensors`: a ray-cast room, images with depth maps and camera
  poses, from random viewpoints or along a :func:`trajectory` (:mod:`~cnncourse.data.camera_paths`),
  for depth and relocalisation;
* :func:`random_crop`, :func:`random_hflip`: batch augmentation;
* :func:`real_dataset`: MNIST, CIFAR-10 ... through torchvision, opt-in only.
"""

from cnncourse.data.augment import compose, random_crop, random_hflip
from cnncourse.data.camera_paths import Poses, random_poses, trajectory
from cnncourse.data.cue_conflict import (
    STYLE_TEXTURES, TEXTURE_CLASSES, CueSet, cue_conflict, cue_decisions, shape_bias, texture_region,
)
from cnncourse.data.digits import Split, digits
from cnncourse.data.figures import FLIP, JOINTS, LIMBS, Figures, FigureSet, figure_tensors, figures
from cnncourse.data.images import SAMPLE_IMAGES, FaceSet, faces, sample_image, sample_images, square_image
from cnncourse.data.real import real_dataset
from cnncourse.data.rooms import ROOM_SIZE, Room, Rooms, RoomSet, render, room_tensors, rooms
from cnncourse.data.shapes import CLASSES as SHAPE_CLASSES
from cnncourse.data.shapes import (
    ShapeSet, Shapes, collate, contains_shape, segmentation_scenes, shapes, single_objects,
)

__all__ = [
    "FaceSet", "SAMPLE_IMAGES", "SHAPE_CLASSES", "faces", "Shapes", "Split", "collate", "compose", "digits",
    "random_crop", "random_hflip", "real_dataset", "sample_image", "sample_images", "ShapeSet", "shapes",
    "single_objects", "square_image", "contains_shape", "segmentation_scenes",
    "FLIP", "JOINTS", "LIMBS", "Figures", "FigureSet", "figure_tensors", "figures",
    "ROOM_SIZE", "Poses", "Room", "Rooms", "RoomSet", "random_poses", "render", "room_tensors", "rooms", "trajectory",
    "CueSet", "STYLE_TEXTURES", "TEXTURE_CLASSES", "cue_conflict", "cue_decisions", "shape_bias", "texture_region",
]
