import urllib.error

import pytest
import torchvision

from cnncourse.data import real_dataset


def test_missing_dataset_without_download_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mnist is not in .*download=True.*digits\(\)"):
        real_dataset("mnist", root=tmp_path)


def test_offline_download_gives_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", offline)
    monkeypatch.setattr(torchvision.datasets.utils, "download_url", offline)
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(ConnectionError, match="could not download mnist.*offline"):
        real_dataset("mnist", root=tmp_path, download=True)


def test_unknown_dataset_lists_choices():
    with pytest.raises(KeyError, match="unknown dataset 'imagenet'.*mnist.*cifar10"):
        real_dataset("imagenet")
