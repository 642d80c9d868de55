"""Text corpora: Dictionary, Corpus on PTB's layout and its errors, batchify and get_batch against a
hand-written reference, and the character corpus of the Python language reference."""
import collections

import numpy as np
import pytest

import needle as ndl
from needle.data import CharCorpus, Corpus, Dictionary, batchify, get_batch, pydoc_corpus, pydoc_text
from needle.data import text as text_module

TRAIN = "the cat sat\non the mat\n\nthe end\n"
TEST = "a cat\nthe dog sat\n"


@pytest.fixture
def ptb(tmp_path):
    """A folder in PTB's layout: train.txt and test.txt."""
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "test.txt").write_text(TEST, encoding="utf-8")
    return tmp_path


def test_dictionary_gives_ids_in_first_seen_order_and_reuses_them():
    words = Dictionary()
    assert [words.add_word(w) for w in ["b", "a", "b", "c", "a"]] == [0, 1, 0, 2, 1]
    assert len(words) == 3 and words.idx2word == ["b", "a", "c"] and words.word2idx == {"b": 0, "a": 1, "c": 2}
    assert words.encode(["c", "b"]).tolist() == [2, 0] and words.decode([2, 0, 1]) == ["c", "b", "a"]


def test_dictionary_names_unknown_tokens_and_bad_ids():
    words = Dictionary("ab")
    with pytest.raises(ValueError, match=r"2 token\(s\) not in the vocabulary: 'x', 'y'"):
        words.encode(list("axby"))
    with pytest.raises(ValueError, match=r"integers in 0\.\.1"):
        words.decode([0, 2])


def test_corpus_reads_words_with_eos_after_every_line_and_one_shared_dictionary(ptb):
    corpus = Corpus(ptb)
    decode = corpus.dictionary.decode
    assert decode(corpus.train) == "the cat sat <eos> on the mat <eos> <eos> the end <eos>".split()
    assert decode(corpus.test) == "a cat <eos> the dog sat <eos>".split()
    assert len(corpus.dictionary) == 9  # 6 train words and <eos>, then "a" and "dog"
    assert corpus.dictionary.word2idx["<eos>"] == 3


def test_corpus_reads_at_most_max_lines_of_each_file(ptb):
    corpus = Corpus(ptb, max_lines=2)
    assert corpus.dictionary.decode(corpus.train) == "the cat sat <eos> on the mat <eos>".split()
    assert corpus.dictionary.decode(corpus.test) == "a cat <eos> the dog sat <eos>".split()
    assert Corpus(ptb, max_lines=1).train == corpus.train[:4]


def test_corpus_errors_name_the_folder_or_file(ptb, tmp_path):
    with pytest.raises(FileNotFoundError, match="Corpus: no folder .*nowhere"):
        Corpus(tmp_path / "nowhere")
    (ptb / "test.txt").unlink()
    with pytest.raises(FileNotFoundError, match="Corpus: no file .*test.txt"):
        Corpus(ptb)
    (ptb / "test.txt").write_text("")
    with pytest.raises(ValueError, match="Corpus: .*test.txt is empty"):
        Corpus(ptb)
    (ptb / "test.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    with pytest.raises(ValueError, match="Corpus: .*test.txt is not UTF-8 text"):
        Corpus(ptb)
    with pytest.raises(ValueError, match="max_lines must be None or a positive integer"):
        Corpus(ptb, max_lines=0)


def test_corpus_reading_is_bounded_by_the_character_budget_and_the_line_limit(ptb, monkeypatch):
    with pytest.raises(ValueError, match="train.txt holds more than max_chars=10 characters"):
        Corpus(ptb, max_chars=10)
    monkeypatch.setattr(text_module, "_MAX_LINE_CHARS", 8)
    with pytest.raises(ValueError, match="train.txt: line 1 is longer than 8 characters"):
        Corpus(ptb)


def _reference_batchify(ids, batch_size):
    """Column j is ids[j·n : (j+1)·n], n = len // batch_size, written as a loop."""
    n = len(ids) // batch_size
    out = np.zeros((n, batch_size), dtype=np.int64)
    for j in range(batch_size):
        out[:, j] = ids[j * n:(j + 1) * n]
    return out


@pytest.mark.parametrize("length, batch_size", [(23, 4), (24, 4), (7, 7), (10, 1)])
def test_batchify_puts_contiguous_slices_in_columns_and_drops_the_remainder(length, batch_size):
    ids = list(range(100, 100 + length))
    batches = batchify(ids, batch_size, ndl.cpu(), None)
    np.testing.assert_array_equal(batches, _reference_batchify(ids, batch_size))
    assert batches.dtype == np.int64
    assert batchify(ids, batch_size, ndl.cpu(), "float32").dtype == np.float32


def test_batchify_errors():
    with pytest.raises(ValueError, match=r"batchify: batch_size 8 is larger than the data \(5 tokens\)"):
        batchify([1, 2, 3, 4, 5], 8, None, None)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        batchify([1, 2], 0, None, None)
    with pytest.raises(ValueError, match="1-D sequence of token ids"):
        batchify(np.zeros((2, 2), dtype=np.int64), 1, None, None)
    with pytest.raises(ValueError, match="float16 cannot hold token id 5000"):
        batchify([5000, 1], 1, None, "float16")


def test_get_batch_returns_the_next_token_as_target_and_shortens_at_the_end():
    batches = batchify(np.arange(30), 3, None, None)  # 10 rows
    data, target = get_batch(batches, 2, 4)
    np.testing.assert_array_equal(data.numpy(), batches[2:6])
    np.testing.assert_array_equal(target.numpy(), batches[3:7].reshape(-1))
    assert data.shape == (4, 3) and target.shape == (12,) and not data.requires_grad
    data, target = get_batch(batches, 7, 4, dtype="float32")
    assert data.shape == (2, 3) and target.shape == (6,) and data.dtype == "float32"
    np.testing.assert_array_equal(target.numpy(), [8, 18, 28, 9, 19, 29])
    for i in (9, -1):
        with pytest.raises(ValueError, match=r"get_batch: row .* has no next row .*\(i must be in 0\.\.8"):
            get_batch(batches, i, 4)


def test_pydoc_corpus_is_deterministic_and_split_90_10_by_position():
    corpus, again = pydoc_corpus(), pydoc_corpus()
    text = pydoc_text()
    assert len(corpus.train) == int(len(text) * 0.9) and len(corpus.train) + len(corpus.test) == len(text)
    np.testing.assert_array_equal(corpus.train, again.train)
    assert corpus.dictionary.idx2word == sorted(set(text))  # code-point order
    assert "".join(corpus.dictionary.decode(corpus.train)) == text[: len(corpus.train)]
    assert "".join(corpus.dictionary.decode(corpus.test)) == text[len(corpus.train):]
    assert corpus.train.dtype == np.int64 and len(corpus.dictionary) > 60


def test_pydoc_text_has_a_unigram_entropy_near_the_issues_figure():
    counts = np.array(list(collections.Counter(pydoc_text()).values()), dtype=np.float64)
    p = counts / counts.sum()
    assert 4.4 < -(p * np.log2(p)).sum() < 5.0


def test_char_corpus_errors():
    with pytest.raises(ValueError, match="too few for a 90%/10% split"):
        CharCorpus("abcdefghi")
    with pytest.raises(ValueError, match=r"held_out must be in \(0, 1\)"):
        CharCorpus("abcdefghijkl", held_out=1.0)
    with pytest.raises(TypeError, match="text must be a str"):
        CharCorpus(b"abc")
