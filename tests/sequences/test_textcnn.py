"""Kim's text CNN: against nn.Conv1d on each sentence alone, padding invariance, n-grams, clear errors."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.data.text import Vocabulary
from cnncourse.sequences import TextCNN, max_over_time, top_ngrams


def _batch(seed, vocab=40, n=5, longest=12, shortest=5):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(shortest, longest + 1, (n,), generator=g)
    tokens = torch.zeros(n, longest, dtype=torch.long)
    for i, length in enumerate(lengths.tolist()):
        tokens[i, :length] = torch.randint(1, vocab, (length,), generator=g)
    return tokens, lengths


@pytest.mark.parametrize("seed, widths", [(0, (3, 4, 5)), (1, (2,)), (2, (1, 2, 3, 4, 5))])
def test_features_equal_conv1d_and_max_on_each_sentence_alone(seed, widths):
    torch.manual_seed(seed)
    model = TextCNN(40, 3, embed_dim=6, widths=widths, filters=4).double()
    tokens, lengths = _batch(seed)
    got = model.features(tokens)
    got.sum().backward()
    grads = [c.weight.grad.clone() for c in model.convs]
    model.zero_grad()
    expected = []
    for row, length in zip(tokens, lengths):
        x = model.embedding(row[None, :length]).transpose(1, 2)
        expected.append(torch.cat([F.relu(F.conv1d(x, c.weight, c.bias)).amax(-1) for c in model.convs], 1))
    expected = torch.cat(expected)
    expected.sum().backward()
    torch.testing.assert_close(got, expected)
    for grad, conv in zip(grads, model.convs):
        torch.testing.assert_close(grad, conv.weight.grad)


def test_padding_does_not_change_the_output():
    torch.manual_seed(0)
    model = TextCNN(40, 2, embed_dim=8, filters=5).eval()
    tokens, _ = _batch(3)
    longer = torch.cat([tokens, torch.zeros(len(tokens), 9, dtype=torch.long)], 1)
    torch.testing.assert_close(model(longer), model(tokens))
    alone = torch.cat([model(row[None, : int((row != 0).sum())]) for row in tokens])
    torch.testing.assert_close(alone, model(tokens))


def test_max_over_time_leaves_out_windows_that_reach_into_padding():
    maps = torch.tensor([[[1.0, 2, 9, 9]]])  # 4 windows of width 2 over 5 tokens
    assert max_over_time(maps, torch.tensor([3]), 2).item() == 2.0  # windows 0 and 1 only
    pooled, where = max_over_time(maps, torch.tensor([5]), 2, return_indices=True)
    assert pooled.item() == 9.0 and where.item() == 2


def test_top_ngrams_finds_the_bigram_a_filter_was_built_for():
    vocab = Vocabulary("a b c d e".split())
    model = TextCNN(len(vocab), 2, embed_dim=len(vocab), widths=(2,), filters=1)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.eye(len(vocab)))
        model.convs[0].weight.zero_()
        model.convs[0].bias.zero_()
        model.convs[0].weight[0, vocab.stoi["c"], 0] = 1.0  # "c" first ...
        model.convs[0].weight[0, vocab.stoi["a"], 1] = 1.0  # ... then "a"
    tokens = torch.tensor([vocab.encode("a c b d e".split()), vocab.encode("b d c a e".split())])
    assert top_ngrams(model, tokens, vocab, k=1) == [[(2.0, "c a")]]


def test_bad_input_is_a_clear_error():
    model = TextCNN(10, 2, widths=(2, 5))
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 10\).*got 12"):
        model(torch.tensor([[1, 2, 3, 4, 12]]))
    with pytest.raises(ValueError, match="at least 5 tokens .*got one of 3"):
        model(torch.tensor([[1, 2, 3, 4, 5], [1, 2, 3, 0, 0]]))
    with pytest.raises(ValueError, match=r"\(N, L\) tensor of integer ids"):
        model(torch.rand(2, 6))
    with pytest.raises(ValueError, match="widths must be positive ints"):
        TextCNN(10, 2, widths=(0, 3))
