"""Collobert and Weston's window network: the window as a convolution, shared look-up table, task heads."""

import pytest
import torch

from cnncourse.sequences import WindowNetwork, tag_accuracy, train_tasks, window_features


def test_the_window_layer_is_the_concatenated_window_times_a_matrix():
    torch.manual_seed(0)
    model = WindowNetwork(30, {"pos": 6}, embed_dim=4, window=5, hidden=7).double()
    tokens = torch.randint(1, 30, (3, 9))
    conv, _ = model.heads["pos"][0]
    vectors = model.lookup(tokens)  # (N, L, D)
    # the weight (H, D, window) read window-major: tap j of word j's D numbers
    matrix = conv.weight.permute(0, 2, 1).reshape(7, -1)
    expected = torch.nn.functional.hardtanh(window_features(vectors, 5) @ matrix.T + conv.bias)
    torch.testing.assert_close(model.heads["pos"][0](vectors.transpose(1, 2)), expected.transpose(1, 2))


def test_window_features_pad_the_ends_with_zeros():
    vectors = torch.arange(1.0, 4.0)[None, :, None]  # three words, one number each
    assert window_features(vectors, 3)[0, :, :].tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 0]]


def _data(seed, n=12, length=7, tags=3):
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.TensorDataset(torch.randint(1, 20, (n, length), generator=g),
                                          torch.randint(0, tags, (n, length), generator=g))


def test_tasks_share_the_lookup_table_and_nothing_else():
    torch.manual_seed(0)
    model = WindowNetwork(20, {"pos": 3, "chunk": 3}, embed_dim=4, hidden=5)
    pos_head = {k: v.clone() for k, v in model.heads["pos"].state_dict().items()}
    lookup = model.lookup.weight.clone()
    train_tasks(model, {"chunk": _data(0)}, steps=5)
    assert not torch.equal(model.lookup.weight, lookup), "training one task moves the shared table"
    for k, v in model.heads["pos"].state_dict().items():
        assert torch.equal(v, pos_head[k]), f"the other task's {k} must not move"
    shared = WindowNetwork(20, {"pos": 3, "chunk": 3}, shared="all")
    assert shared.heads["pos"][0] is shared.heads["chunk"][0]


def test_tag_accuracy_counts_real_tokens_only():
    model = WindowNetwork(20, {"pos": 3}, embed_dim=4, hidden=5)
    tokens = torch.randint(1, 20, (2, 6))
    predicted = model.eval()(tokens, "pos").argmax(1)
    tags = predicted.clone()
    tags[0, 0] = (tags[0, 0] + 1) % 3  # one wrong
    tags[1, 3:] = -100  # padding
    assert tag_accuracy(model, tokens, tags, "pos") == pytest.approx(8 / 9)
    only = torch.zeros(2, 6, dtype=torch.bool)
    only[0, :2] = True
    assert tag_accuracy(model, tokens, tags, "pos", only) == pytest.approx(0.5)


def test_bad_input_is_a_clear_error():
    model = WindowNetwork(20, {"pos": 3})
    with pytest.raises(KeyError, match=r"task must be one of \['pos'\]; got 'ner'"):
        model(torch.ones(1, 5, dtype=torch.long), "ner")
    with pytest.raises(ValueError, match="token ids must lie in"):
        model(torch.full((1, 5), 20), "pos")
    with pytest.raises(ValueError, match="window must be a positive odd int"):
        WindowNetwork(20, {"pos": 3}, window=4)
    with pytest.raises(KeyError, match="datasets name tasks the model lacks"):
        train_tasks(model, {"chunk": _data(0)}, steps=1)
