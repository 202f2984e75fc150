"""Text that needs no download: Python's own documentation and two generators.

* :func:`python_docs`: the English documentation that ships with every
  Python (``pydoc_data.topics``, 79 topics, about 465,000 characters), the
  real text of the character-level language model;
* :func:`sentiment`: short movie-review sentences whose polarity a negation
  flips ("the plot was not very good"), with negations in neutral phrases as
  distractors, so that which n-gram widths a classifier needs can be measured;
* :func:`tagging`: sentences of a small grammar with two tag sequences per
  sentence, parts of speech and chunks, for Collobert and Weston's
  multi-task window network.

A :class:`Vocabulary` turns tokens into the ids an embedding (the look-up
table) reads; :func:`pad` right-pads id sequences into one (N, L) tensor.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Tokens <-> ids. With ``specials`` (the default), id 0 is padding and id 1 stands for unknown tokens."""

    def __init__(self, tokens: Iterable[str], specials: Sequence[str] = (PAD, UNK)):
        self.itos = list(specials) + sorted(set(tokens) - set(specials))
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.unk = self.stoi.get(UNK)

    @classmethod
    def from_sentences(cls, sentences: Iterable[Sequence[str]], min_count: int = 1) -> Vocabulary:
        counts = Counter(t for s in sentences for t in s)
        return cls(t for t, c in counts.items() if c >= min_count)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        if self.unk is None:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(f"Vocabulary.encode: tokens not in the vocabulary (it has no {UNK}): "
                               f"{sorted(set(missing))[:5]}")
            return [self.stoi[t] for t in tokens]
        return [self.stoi.get(t, self.unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]


def pad(sequences: Sequence[Sequence[int]], length: int | None = None, value: int = 0) -> torch.Tensor:
    """Id sequences right-padded with ``value`` to ``length`` (default: the longest): (N, L) int64."""
    longest = max((len(s) for s in sequences), default=0)
    length = longest if length is None else length
    if length < longest:
        raise ValueError(f"pad: length must be at least the longest sequence ({longest}); got {length}")
    out = torch.full((len(sequences), length), value, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def python_docs() -> str:
    """The documentation topics shipped with Python (``pydoc_data.topics``), in name order."""
    from pydoc_data.topics import topics

    return "\n".join(topics[name] for name in sorted(topics))


@dataclass
class TextSet:
    """Sentences as tokens and as padded ids, with one label per sentence or one tag per token."""

    sentences: list[list[str]]
    tokens: torch.Tensor  # (N, L) ids, 0 = padding
    targets: dict[str, torch.Tensor]  # name -> (N,) labels or (N, L) tags (-100 on padding)
    vocab: Vocabulary
    kinds: list[str]  # a word on how each sentence was built

    def __len__(self) -> int:
        return len(self.sentences)

    def dataset(self, target: str) -> torch.utils.data.TensorDataset:
        """(tokens, target) pairs for a DataLoader."""
        if target not in self.targets:
            raise KeyError(f"TextSet.dataset: target must be one of {sorted(self.targets)}; got {target!r}")
        return torch.utils.data.TensorDataset(self.tokens, self.targets[target])


def _encode(sentences, vocab, kinds, targets):
    vocab = vocab or Vocabulary.from_sentences(sentences)
    return TextSet(sentences, pad([vocab.encode(s) for s in sentences]), targets, vocab, kinds)


# --- sentiment: polarity flipped by negation --------------------------------------------------
POSITIVE = ("good great excellent wonderful brilliant superb enjoyable moving charming delightful "
            "clever funny beautiful gripping solid fresh").split()
NEGATIVE = ("bad awful terrible boring dull weak poor clumsy tedious bland silly messy flat lazy "
            "predictable forgettable").split()
NOUNS = ("film movie plot story acting script cast ending soundtrack pacing dialogue direction humour "
         "sequel premise finale").split()
INTENSIFIERS = "very really truly quite particularly especially".split()
NEGATORS = "not never hardly".split()
OPENINGS = ("i thought the {n} was", "i found the {n}", "honestly the {n} is", "to me the {n} seemed",
            "in the end the {n} felt")
# neutral phrases, several with a negator and an intensifier, so that neither a negator alone nor
# "not very" alone says whether the adjective is negated
FILLERS = ("to be honest", "overall", "in my opinion", "from start to finish", "if you ask me",
           "whether or not you agree", "not that it matters", "not very long ago", "i was not really sure at first",
           "as i had never seen the first one", "on a rainy sunday", "with my brother", "not quite two hours long")


def sentiment(n: int, seed: int = 0, *, negation: float = 0.5, intensifier: float = 0.5, filler: float = 0.7,
              vocab: Vocabulary | None = None) -> TextSet:
    """``n`` generated review sentences labelled 1 (positive) or 0 (negative).

    Each sentence describes one aspect of a film with one adjective, e.g.
    "the plot was not very good"; with probability ``negation`` a negator
    precedes the adjective and flips its polarity, with probability
    ``intensifier`` an intensifier stands right before the adjective, and
    with probability ``filler`` a neutral phrase comes before or after (some
    hold "not" or "not very" themselves). ``kinds`` says which construction
    each sentence uses: ``plain``, ``not ADJ`` or ``not INT ADJ``. Pass the
    training set's ``vocab`` to a test set.
    """
    rng = random.Random(seed)
    sentences, labels, kinds = [], [], []
    for _ in range(n):
        positive = rng.random() < 0.5
        words = rng.choice(OPENINGS).format(n=rng.choice(NOUNS)).split()
        negated, intense = rng.random() < negation, rng.random() < intensifier
        if negated:
            words.append(rng.choice(NEGATORS))
        if intense:
            words.append(rng.choice(INTENSIFIERS))
        words.append(rng.choice(POSITIVE if positive else NEGATIVE))
        if rng.random() < filler:
            phrase = rng.choice(FILLERS).split()
            words = phrase + [","] + words if rng.random() < 0.5 else words + [","] + phrase
        sentences.append(words)
        labels.append(int(positive != negated))
        kinds.append("plain" if not negated else "not INT ADJ" if intense else "not ADJ")
    return _encode(sentences, vocab, kinds, {"label": torch.tensor(labels)})


# --- tagging: parts of speech and chunks -------------------------------------------------------
POS_TAGS = ("DET", "ADJ", "NOUN", "VERB", "ADV", "PREP")
CHUNK_TAGS = ("B-NP", "I-NP", "B-VP", "B-PP", "B-ADVP")
WORDS = {
    "DET": "the a this that every some".split(),
    "ADJ": (POSITIVE + NEGATIVE + "red green small large old young quiet loud heavy bright".split()),
    "NOUN": (NOUNS + ("dog cat bird horse teacher student farmer doctor river garden window table city "
                      "village mountain road book letter song picture").split()),
    "VERB": "sees likes finds follows carries paints builds opens reads writes helps meets".split(),
    "ADV": "quickly slowly often rarely gladly quietly".split(),
    "PREP": "in on near under with behind".split(),
}
# words that are a noun or a verb by context: only the window around them can tell
AMBIGUOUS = "watch play walk plan visit call guard light".split()


def _noun_phrase(rng):
    words, tags = [], []
    if rng.random() < 0.75:
        words.append(rng.choice(WORDS["DET"]))
        tags.append("DET")
    for _ in range(rng.choice((0, 0, 1, 2))):
        words.append(rng.choice(WORDS["ADJ"]))
        tags.append("ADJ")
    words.append(rng.choice(WORDS["NOUN"] + AMBIGUOUS) if rng.random() < 0.8 else rng.choice(AMBIGUOUS))
    tags.append("NOUN")
    chunks = ["B-NP"] + ["I-NP"] * (len(words) - 1)
    return words, tags, chunks


def tagging(n: int, seed: int = 0, vocab: Vocabulary | None = None) -> TextSet:
    """``n`` sentences ``NP VERB NP [ADV] [PREP NP]`` with two tag sequences each.

    ``targets["pos"]`` holds the part of speech of every token
    (:data:`POS_TAGS`), ``targets["chunk"]`` its chunk in the BIO scheme
    (:data:`CHUNK_TAGS`: a noun phrase begins at its first word, a verb,
    preposition or adverb is a chunk of its own); padding is -100, which
    ``F.cross_entropy`` ignores. Eight words (:data:`AMBIGUOUS`) are nouns
    or verbs depending on their neighbours.
    """
    rng = random.Random(seed)
    sentences, pos, chunk = [], [], []
    for _ in range(n):
        words, tags, chunks = _noun_phrase(rng)
        verb = rng.choice(WORDS["VERB"] + AMBIGUOUS)
        w, t, c = _noun_phrase(rng)
        words, tags, chunks = words + [verb] + w, tags + ["VERB"] + t, chunks + ["B-VP"] + c
        if rng.random() < 0.4:
            words, tags, chunks = words + [rng.choice(WORDS["ADV"])], tags + ["ADV"], chunks + ["B-ADVP"]
        if rng.random() < 0.5:
            w, t, c = _noun_phrase(rng)
            words += [rng.choice(WORDS["PREP"])] + w
            tags += ["PREP"] + t
            chunks += ["B-PP"] + c
        sentences.append(words)
        pos.append([POS_TAGS.index(t) for t in tags])
        chunk.append([CHUNK_TAGS.index(c) for c in chunks])
    targets = {"pos": pad(pos, value=-100), "chunk": pad(chunk, value=-100)}
    return _encode(sentences, vocab, ["tagged"] * n, targets)


def word_classes() -> dict[str, str]:
    """The part of speech of every word :func:`tagging` uses in one role only (not the :data:`AMBIGUOUS` ones)."""
    return {w: tag for tag, words in WORDS.items() for w in words}


def all_words() -> list[str]:
    """Every word :func:`tagging` can produce (a vocabulary that covers the test sets too)."""
    return sorted({w for ws in WORDS.values() for w in ws} | set(AMBIGUOUS))
