"""tests/book/executed_notebooks.py: which notebooks `make nbval` keeps on one worker."""

import nbformat

from tests.book.executed_notebooks import ROOT, zoo_groups
from tests.book.toc import toc_pages


def _notebook(path, *sources):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_notebooks_naming_a_zoo_network_share_a_group_and_the_link_is_transitive(tmp_path):
    trains = _notebook(tmp_path / "a.ipynb", 'net = zoo.load("alexnet_shapes")')
    loads = _notebook(tmp_path / "b.ipynb", "names = ['alexnet_shapes', 'ssd_shapes']", "print(names)")
    chained = _notebook(tmp_path / "c.ipynb", 'zoo.settings("ssd_shapes")')
    alone = _notebook(tmp_path / "d.ipynb", 'x = "alexnet_shapes_untrained"')  # another network
    plain = _notebook(tmp_path / "e.ipynb", "print('alexnet')")
    groups = zoo_groups([trains, loads, chained, alone, plain])
    assert groups[trains] == groups[loads] == groups[chained] == "a"
    assert len({groups[trains], groups[alone], groups[plain]}) == 3


def test_the_segmentation_and_detection_chapters_are_grouped_with_the_chapters_that_train_their_networks():
    paths = [(ROOT / f"{page}.ipynb").resolve() for page in toc_pages() if page.startswith("notebooks/")]
    group = {path.stem: name for path, name in zoo_groups(paths).items()}
    assert group["activations"] == group["retrieval"] == group["transfer_learning"]
    assert group["semantic_segmentation"] == group["segmentation_scale"]
    assert group["single_shot"] == group["relations"] == group["fast_faster_rcnn"]
    assert group["convolution"] != group["pooling"]
