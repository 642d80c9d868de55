"""Text for language models: the course's Dictionary, Corpus (Penn Treebank's layout), batchify and
get_batch, and a character-level corpus of the Python language reference that ships with Python.

A Corpus reads `train.txt` and `test.txt`: whitespace-split words, `<eos>` after every line. Files
are untrusted: lines are read with a length limit and the whole corpus with a character budget, so
no file costs more memory than the budget allows. `pydoc_corpus()` needs no file at all: it joins the
texts of `pydoc_data.topics` (the reference behind `help("if")`) in sorted-key order and holds out
the last 10 % of the characters.
"""
import itertools
from pathlib import Path

import numpy as np

from ..autograd import Tensor
from ..device import cpu

__all__ = ["Dictionary", "Corpus", "CharCorpus", "pydoc_text", "pydoc_corpus", "batchify", "get_batch"]

EOS = "<eos>"
MAX_CORPUS_CHARS = 2**28  # 256 M characters: PTB's train.txt holds 5 M
_MAX_LINE_CHARS = 2**20


class Dictionary:
    """Tokens and their ids, in the order first seen: `word2idx` {token: id}, `idx2word` [token]."""

    def __init__(self, tokens=()):
        self.word2idx = {}
        self.idx2word = []
        for token in tokens:
            self.add_word(token)

    def add_word(self, word):
        """The id of `word`, given the next free id when it is new."""
        index = self.word2idx.get(word)
        if index is None:
            index = self.word2idx[word] = len(self.idx2word)
            self.idx2word.append(word)
        return index

    def __len__(self):
        return len(self.idx2word)

    def encode(self, tokens):
        """The ids of `tokens` (an int64 array); a token not in the dictionary is a ValueError naming it."""
        missing = sorted({token for token in tokens if token not in self.word2idx})
        if missing:
            shown = ", ".join(repr(token) for token in missing[:10]) + (", ..." if len(missing) > 10 else "")
            raise ValueError(f"Dictionary.encode: {len(missing)} token(s) not in the vocabulary: {shown}")
        return np.array([self.word2idx[token] for token in tokens], dtype=np.int64)

    def decode(self, ids):
        """The tokens of `ids`; an id outside 0..len-1 is a ValueError."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"Dictionary.decode: ids must be integers in 0..{len(self) - 1}")
        return [self.idx2word[i] for i in ids.tolist()]

    def __repr__(self):
        return f"Dictionary({len(self)} tokens)"


class Corpus:
    """Word-level corpus from `base_dir/train.txt` and `base_dir/test.txt`, one shared Dictionary.

    `train` and `test` are lists of token ids: each line's whitespace-split words, then `<eos>`,
    reading at most `max_lines` lines of each file (all when None). A missing file, an empty file,
    text that is not UTF-8, or more than `max_chars` characters is a clear error naming the file.
    """

    def __init__(self, base_dir, max_lines=None, *, max_chars=MAX_CORPUS_CHARS):
        if max_lines is not None and (isinstance(max_lines, bool) or not isinstance(max_lines, int) or max_lines < 1):
            raise ValueError(f"Corpus: max_lines must be None or a positive integer, got {max_lines!r}")
        base_dir = Path(base_dir)
        if not base_dir.is_dir():
            raise FileNotFoundError(f"Corpus: no folder {base_dir} (expected train.txt and test.txt in it)")
        self.max_chars = max_chars
        self.dictionary = Dictionary()
        self.train = self.tokenize(base_dir / "train.txt", max_lines)
        self.test = self.tokenize(base_dir / "test.txt", max_lines)

    def tokenize(self, path, max_lines=None):
        """The ids of `path`'s words, `<eos>` after each line, adding new words to the dictionary."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Corpus: no file {path}")
        ids, chars = [], 0
        try:
            with open(path, encoding="utf-8", newline=None) as file:
                for number in itertools.count(1):
                    line = file.readline(_MAX_LINE_CHARS + 1) if max_lines is None or number <= max_lines else ""
                    if not line:
                        break
                    if len(line) > _MAX_LINE_CHARS:
                        raise ValueError(f"Corpus: {path}: line {number} is longer than {_MAX_LINE_CHARS} characters")
                    chars += len(line)
                    if chars > self.max_chars:
                        raise ValueError(f"Corpus: {path} holds more than max_chars={self.max_chars} characters")
                    ids.extend(self.dictionary.add_word(word) for word in line.split())
                    ids.append(self.dictionary.add_word(EOS))
        except UnicodeDecodeError as error:
            raise ValueError(f"Corpus: {path} is not UTF-8 text: {error.reason} at byte {error.start}") from None
        if chars == 0:
            raise ValueError(f"Corpus: {path} is empty")
        return ids


class CharCorpus:
    """Character-level corpus of `text`: the first (1 − held_out) of its characters train, the rest test.

    The vocabulary is every character of `text` in code-point order, so ids do not depend on where
    the split falls and the held-out part has no unknown character. `train` and `test` are int64
    arrays of ids; `dictionary` maps characters to ids.
    """

    def __init__(self, text, held_out=0.1):
        if not isinstance(text, str):
            raise TypeError(f"CharCorpus: text must be a str, got {type(text).__name__}")
        if not 0.0 < held_out < 1.0:
            raise ValueError(f"CharCorpus: held_out must be in (0, 1), got {held_out!r}")
        cut = int(len(text) * (1.0 - held_out))
        if cut < 2 or len(text) - cut < 2:
            raise ValueError(
                f"CharCorpus: {len(text)} characters are too few for a {1 - held_out:.0%}/{held_out:.0%} split "
                f"(each part needs at least 2)"
            )
        self.dictionary = Dictionary(sorted(set(text)))
        # One lookup table over code points: the whole text is encoded without a Python loop.
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        table[[ord(c) for c in self.dictionary.idx2word]] = np.arange(len(self.dictionary))
        ids = table[codes]
        self.held_out = held_out
        self.train, self.test = ids[:cut], ids[cut:]

    def __repr__(self):
        return f"CharCorpus({len(self.train)} train / {len(self.test)} test characters, {len(self.dictionary)} symbols)"


def pydoc_text():
    """The Python language reference of this interpreter: `pydoc_data.topics.topics` joined in key order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def pydoc_corpus(held_out=0.1):
    """CharCorpus of `pydoc_text()`: on Python 3.11, 79 topics, 464,970 characters, 103 symbols."""
    return CharCorpus(pydoc_text(), held_out)


def _check_device(function, device):
    if device is not None and device != cpu():
        raise ValueError(f"{function}: unknown device {device!r}; needle runs on cpu()")


def batchify(data, batch_size, device=None, dtype=None):
    """Token ids (N,) → array (N // batch_size, batch_size): column j is the j-th contiguous slice.

    The remainder that does not fill a row is dropped. `dtype` None keeps integer ids (int64); a
    float dtype is allowed as long as it holds every id exactly.
    """
    _check_device("batchify", device)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batchify: batch_size must be a positive integer, got {batch_size!r}")
    ids = np.asarray(data)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iuf"):
        raise ValueError(f"batchify: data must be a 1-D sequence of token ids, got shape {ids.shape} dtype {ids.dtype}")
    nbatch = len(ids) // batch_size
    if nbatch == 0:
        raise ValueError(f"batchify: batch_size {batch_size} is larger than the data ({len(ids)} tokens)")
    rows = ids[: nbatch * batch_size].reshape(batch_size, nbatch).T
    if dtype is None:
        return np.ascontiguousarray(rows, dtype=np.int64 if rows.dtype.kind in "iu" else rows.dtype)
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and rows.size and rows.max() >= 2 ** (np.finfo(dtype).nmant + 1):
        raise ValueError(f"batchify: dtype {dtype} cannot hold token id {int(rows.max())} exactly")
    return np.ascontiguousarray(rows, dtype=dtype)


def get_batch(batches, i, bptt, device=None, dtype=None):
    """(data (L, bs), target (L·bs,)) from rows i..i+L−1 of `batches`, L = min(bptt, nbatch − 1 − i).

    The target of each token is the token after it in its column. Both are constant Tensors of
    `dtype` (the array's dtype when None).
    """
    _check_device("get_batch", device)
    batches = np.asarray(batches)
    if batches.ndim != 2:
        raise ValueError(f"get_batch: batches must be 2-D (nbatch, batch_size), got shape {batches.shape}")
    if isinstance(bptt, bool) or not isinstance(bptt, (int, np.integer)) or bptt < 1:
        raise ValueError(f"get_batch: bptt must be a positive integer, got {bptt!r}")
    length = min(bptt, batches.shape[0] - 1 - i)
    if i < 0 or length < 1:
        raise ValueError(
            f"get_batch: row {i} has no next row to predict in batches of shape {batches.shape} "
            f"(i must be in 0..{batches.shape[0] - 2})"
        )
    data = batches[i:i + length]
    target = batches[i + 1:i + 1 + length].reshape(-1)
    return (
        Tensor(data, device=device, dtype=dtype, requires_grad=False),
        Tensor(target, device=device, dtype=dtype, requires_grad=False),
    )
