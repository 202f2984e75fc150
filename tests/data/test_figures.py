import numpy as np
import pytest
import torch

from cnncourse.data.figures import BONES, FLIP, HEIGHT, JOINTS, LIMBS, figure_tensors, figures


@pytest.fixture(scope="module")
def people():
    return figures(n=120, size=48, seed=3, occlusion=0.5)


def _on_mask(sample, which):
    """Whether the pixel holding each selected joint is one of the figure's pixels."""
    x, y = sample["joints"][which].floor().long().T
    return sample["mask"][y, x]


def test_sample_fields_shapes_and_types(people):
    s = people[0]
    assert s["image"].shape == (3, 48, 48) and s["image"].dtype == torch.float32
    assert 0 <= s["image"].min() and s["image"].max() <= 1
    assert s["joints"].shape == (14, 2) and s["joints"].dtype == torch.float32
    assert s["visible"].shape == (14,) and s["visible"].dtype == torch.bool
    assert s["mask"].shape == (48, 48) and s["mask"].dtype == torch.bool
    assert len(JOINTS) == 14 and len(LIMBS) == 13 and len(people) == 120


def test_deterministic_by_seed_and_index(people):
    again = figures(n=300, size=48, seed=3, occlusion=0.5)  # another n: sample i depends on (seed, i) only
    for i in (0, 17, 119):
        for key, value in people[i].items():
            assert torch.equal(value, again[i][key])
    other = figures(n=120, size=48, seed=4, occlusion=0.5)
    assert not torch.equal(people[5]["joints"], other[5]["joints"])
    assert torch.equal(people[-1]["joints"], people[119]["joints"])


def test_visible_joints_are_in_the_image_and_on_the_figure(people):
    for i in range(len(people)):
        s = people[i]
        v = s["visible"]
        assert ((s["joints"][v] >= 0) & (s["joints"][v] < 48)).all()
        assert _on_mask(s, v).all(), f"sample {i}: a visible joint is not on the drawn figure"


def test_figure_colour_is_uniform_and_stands_out(people):
    for i in range(20):
        s = people[i]
        figure, rest = s["image"][:, s["mask"]], s["image"][:, ~s["mask"]]
        assert figure.std(1).max() < 0.04  # one colour plus the fine grain
        assert (figure.mean(1) - rest.mean(1)).abs().sum() > 0.3


def test_bone_lengths_are_the_table_times_the_body_scale():
    table = torch.tensor([BONES[JOINTS[child]][1] for _, child in LIMBS])
    data = figures(n=40, size=64, seed=1, scale=(0.5, 0.8))
    units = []
    for i in range(len(data)):
        j = data[i]["joints"].double()
        lengths = torch.stack([(j[c] - j[p]).norm() for p, c in LIMBS])
        unit = lengths / table  # pixels per torso unit: one number for the whole figure
        assert torch.allclose(unit, unit[0].expand_as(unit), rtol=1e-5)
        units.append(unit[0].item())
    heights = np.array(units) * HEIGHT / 64  # the standing height, as a fraction of the image
    assert heights.min() >= 0.5 - 1e-6 and heights.max() <= 0.8 + 1e-6 and heights.std() > 0.05


def test_only_off_image_joints_are_invisible_without_occlusion():
    data = figures(n=60, size=32, seed=2, background="gratings", scale=(1.2, 1.6))  # too large to fit
    off = 0
    for i in range(len(data)):
        s = data[i]
        inside = ((s["joints"] >= 0) & (s["joints"] < 32)).all(1)
        assert torch.equal(s["visible"], inside)
        assert _on_mask(s, inside).all()
        off += int((~inside).sum())
    assert off > 0, "no figure reaches out of the image"


def test_occlusion_hides_joints_inside_the_image():
    data = figures(n=40, size=48, seed=5, occlusion=1.0)
    for i in range(len(data)):
        s = data[i]
        inside = ((s["joints"] >= 0) & (s["joints"] < 48)).all(1)
        hidden = inside & ~s["visible"]
        assert hidden.any(), f"sample {i}: occlusion=1 hid no joint"
        assert not _on_mask(s, hidden).any(), "an occluded joint's pixel is still marked as the figure"


def test_flip_swaps_left_and_right():
    for i, name in enumerate(JOINTS):
        swapped = name.replace("left", "@").replace("right", "left").replace("@", "right")
        assert JOINTS[FLIP[i]] == swapped
    assert [FLIP[k] for k in FLIP] == list(range(14))
    assert sorted(tuple(sorted((FLIP[p], FLIP[c]))) for p, c in LIMBS) == sorted(tuple(sorted(b)) for b in LIMBS)


def test_figures_face_the_viewer_and_flip_consistently(people):
    left, right = JOINTS.index("left_shoulder"), JOINTS.index("right_shoulder")
    for i in range(30):
        s = people[i]
        assert s["joints"][left, 0] > s["joints"][right, 0]  # the upright figure's left is on the image's right
        joints = s["joints"][list(FLIP)] * torch.tensor([-1.0, 1.0]) + torch.tensor([48.0, 0.0])
        mirrored = {"joints": joints, "mask": s["mask"].flip(-1)}
        visible = s["visible"][list(FLIP)]
        assert joints[left, 0] > joints[right, 0] and _on_mask(mirrored, visible).all()


def test_poses_vary(people):
    names = ("left_shoulder", "left_elbow", "left_hand", "right_shoulder", "right_elbow", "right_hand")
    sl, el, hl, sr, er, hr = (JOINTS.index(n) for n in names)
    bends, spines = [], []
    for i in range(len(people)):
        j = people[i]["joints"].double()
        for s, e, h, side in ((sl, el, hl, 1), (sr, er, hr, -1)):  # the right elbow mirrors the left
            upper, fore = j[e] - j[s], j[h] - j[e]
            bends.append(side * torch.atan2(upper[0] * fore[1] - upper[1] * fore[0], upper @ fore).item())
        spine = j[[JOINTS.index("left_hip"), JOINTS.index("right_hip")]].mean(0) - j[JOINTS.index("neck")]
        spines.append(torch.atan2(spine[0], spine[1]).item())
    assert np.degrees(np.std(bends)) > 30 and np.degrees(np.std(spines)) > 10
    assert len({tuple(people[i]["joints"].round().flatten().tolist()) for i in range(len(people))}) == len(people)


def test_figure_tensors_stack_the_dataset():
    fs = figure_tensors(n=6, size=32, seed=2, occlusion=0.5, background="gratings")
    data = figures(n=6, size=32, seed=2, occlusion=0.5, background="gratings")
    assert fs.images.shape == (6, 3, 32, 32) and fs.joints.shape == (6, 14, 2) and fs.visible.shape == (6, 14)
    assert fs.visible.dtype == torch.bool
    for i in (0, 5):
        assert torch.equal(fs.images[i], data[i]["image"]) and torch.equal(fs.joints[i], data[i]["joints"])
        assert torch.equal(fs.visible[i], data[i]["visible"])


@pytest.mark.parametrize("kwargs, words", [
    (dict(n=0), "figures: n must"), (dict(size=8), "figures: size must"), (dict(size=32.0), "size must"),
    (dict(occlusion=1.5), "occlusion must"), (dict(occlusion=-0.1), "occlusion must"),
    (dict(background="noise"), "background must"), (dict(scale=(0.9, 0.5)), "scale must"),
    (dict(scale=(0, 0.5)), "scale must"), (dict(scale=0.7), "scale must"), (dict(seed=-1), "seed must"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        figures(**kwargs)
    with pytest.raises(ValueError, match=words):
        figure_tensors(**kwargs)


def test_index_out_of_range(people):
    with pytest.raises(IndexError, match="index 120 out of range for 120"):
        people[120]


def test_smallest_figures_still_cover_their_joints():
    data = figures(n=50, size=16, seed=0)  # limbs thinner than a pixel are widened to reach the joints' pixels
    for i in range(len(data)):
        s = data[i]
        assert s["visible"].any() and _on_mask(s, s["visible"]).all()
