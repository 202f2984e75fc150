"""The text data: Python's documentation, the sentiment and tagging generators, the vocabulary."""

import pytest
import torch

from cnncourse.data import text


def test_python_docs_is_the_shipped_documentation():
    docs = text.python_docs()
    assert len(docs) > 400_000
    assert 'The "assert" statement' in docs and "The \"for\" statement" in docs


def test_sentiment_labels_follow_the_adjective_and_the_negation():
    data = text.sentiment(300, seed=4)
    assert torch.equal(data.tokens, text.sentiment(300, seed=4).tokens), "seeded"
    assert set(data.kinds) == {"plain", "not ADJ", "not INT ADJ"}
    for words, label, kind in zip(data.sentences, data.targets["label"].tolist(), data.kinds):
        adjective = next(w for w in words if w in text.POSITIVE or w in text.NEGATIVE)
        at = words.index(adjective)
        negated = words[at - 1] in text.NEGATORS or (
            words[at - 1] in text.INTENSIFIERS and words[at - 2] in text.NEGATORS)
        assert negated == (kind != "plain")
        assert label == int((adjective in text.POSITIVE) != negated), " ".join(words)
        assert len(words) >= 5
    rows = (data.tokens != 0).sum(1)
    assert rows.tolist() == [len(s) for s in data.sentences]


def test_a_test_set_encodes_with_the_training_vocabulary():
    train = text.sentiment(50, seed=0)
    test = text.sentiment(50, seed=1, vocab=train.vocab)
    assert test.vocab is train.vocab and int(test.tokens.max()) < len(train.vocab)


def test_tagging_tags_every_word_and_chunks_begin_noun_phrases():
    data = text.tagging(200, seed=0)
    for i, words in enumerate(data.sentences):
        pos = data.targets["pos"][i, : len(words)].tolist()
        chunk = data.targets["chunk"][i, : len(words)].tolist()
        assert (data.targets["pos"][i, len(words):] == -100).all()
        for j, (p, c) in enumerate(zip(pos, chunk)):
            tag, chunk_tag = text.POS_TAGS[p], text.CHUNK_TAGS[c]
            if tag in ("DET", "ADJ", "NOUN"):
                starts = j == 0 or text.POS_TAGS[pos[j - 1]] not in ("DET", "ADJ")
                assert chunk_tag == ("B-NP" if starts else "I-NP")
            else:
                assert chunk_tag == {"VERB": "B-VP", "PREP": "B-PP", "ADV": "B-ADVP"}[tag]
    assert set(text.all_words()) >= {w for s in data.sentences for w in s}
    classes = text.word_classes()
    assert not set(classes) & set(text.AMBIGUOUS)
    assert len(classes) == sum(len(words) for words in text.WORDS.values()), "one class per word"


def test_vocabulary_and_padding():
    vocab = text.Vocabulary("b a c".split())
    assert vocab.itos == [text.PAD, text.UNK, "a", "b", "c"]
    assert vocab.encode(["c", "zz"]) == [4, 1] and vocab.decode([2, 3]) == ["a", "b"]
    chars = text.Vocabulary("hello", specials=())
    with pytest.raises(KeyError, match="not in the vocabulary"):
        chars.encode("hex")
    assert text.pad([[1, 2], [3]]).tolist() == [[1, 2], [3, 0]]
    with pytest.raises(ValueError, match="at least the longest sequence"):
        text.pad([[1, 2, 3]], length=2)
    with pytest.raises(KeyError, match="target must be one of"):
        text.sentiment(3).dataset("pos")
