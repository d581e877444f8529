"""Tokenizer and generated tasks: fixed ids, padding, the held-out set kept out of training (and free of
short numbers), uniform digit counts, well-formed batches."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from course.numerals import to_chinese, to_english
from course.tasks import TASK_NAMES, Batch, Task, get_task
from course.tokenizer import BOS, EOS, PAD, UNK, CharTokenizer, pad_batch

# ------------------------------------------------------------------------------- tokenizer

def test_special_ids_are_fixed_and_alphabet_follows_in_order():
    tok = CharTokenizer("abc")
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert tok.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert tok.encode("cab") == [6, 4, 5]
    assert len(tok) == 7
    assert CharTokenizer("abc").stoi == tok.stoi  # deterministic


def test_encode_decode_round_trip_and_specials():
    tok = CharTokenizer("零一二十")
    ids = tok.encode("二十一", bos=True, eos=True)
    assert ids[0] == BOS and ids[-1] == EOS
    assert tok.decode(ids) == "二十一"
    assert tok.decode(torch.tensor(ids + [5, 6])) == "二十一"  # stops at <eos>
    assert tok.decode([BOS, 4, PAD, UNK, 5]) == "零一"  # specials dropped
    assert tok.decode([BOS, 4, UNK, 5, EOS, 6], show_specials=True) == "<bos>零<unk>一"
    assert tok.encode("x二") == [UNK, 6]
    assert tok.decode_batch(torch.tensor([[4, EOS, 5], [5, 5, PAD]])) == ["零", "一一"]


@pytest.mark.parametrize("alphabet, match", [("aba", "repeats"), ("", "empty"), (["ab"], "single")])
def test_bad_alphabets(alphabet, match):
    with pytest.raises(ValueError, match=match):
        CharTokenizer(alphabet)


def test_tokenizer_bad_calls():
    tok = CharTokenizer("ab")
    with pytest.raises(TypeError, match="str"):
        tok.encode(12)
    with pytest.raises(ValueError, match="outside"):
        tok.decode([99])
    with pytest.raises(ValueError, match="1-D"):
        tok.decode(torch.zeros(2, 2, dtype=torch.long))


def test_pad_batch():
    ids, lengths = pad_batch([[5, 6, 7], [8], [9, 9]])
    assert ids.dtype == torch.long and lengths.dtype == torch.long
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 9, 0]]
    assert lengths.tolist() == [3, 1, 2]
    with pytest.raises(ValueError):
        pad_batch([])
    with pytest.raises(TypeError):
        pad_batch(torch.ones(2, 2))


# ------------------------------------------------------------------------------- tasks

@pytest.fixture(scope="module")
def zh():
    return Task("zh")


def test_test_set_is_fixed_long_and_disjoint_from_training(zh):
    assert len(zh.test_set) == 1000 == len(set(zh.test_set))
    assert zh.test_set == Task("zh").test_set  # the same every time
    assert all(4 <= len(s) <= 8 and s[0] != "0" for s in zh.test_set)  # no short numbers (the held-out trap)
    held = set(zh.test_set)
    g = torch.Generator().manual_seed(0)
    seen = zh.sample(30_000, g)
    assert not held & set(seen)


def test_a_naive_held_out_split_would_swallow_short_numbers():
    """Why the test set holds out long numbers only: drawn like training data, 1000 numbers cover
    nearly every one-digit number, so training without them would never see those."""
    g = torch.Generator().manual_seed(1)
    naive = set(Task("zh").sample(1000, g))
    assert len({s for s in naive if len(s) == 1}) >= 9


def test_training_digit_counts_are_uniform_and_digits_too(zh):
    g = torch.Generator().manual_seed(2)
    sources = zh.sample(16_000, g)
    counts = Counter(len(s) for s in sources)
    assert set(counts) == set(range(1, 9))
    assert all(abs(c / 16_000 - 1 / 8) < 0.015 for c in counts.values())
    ones = Counter(s for s in sources if len(s) == 1)
    assert set(ones) == set("0123456789")
    rest = Counter(c for s in sources for c in s[1:])
    assert all(abs(rest[c] / sum(rest.values()) - 0.1) < 0.01 for c in "0123456789")
    assert all(s == "0" or s[0] != "0" for s in sources)


def test_zero_prob_makes_zeros_more_common():
    g = torch.Generator().manual_seed(3)
    zeros = Task("zh", zero_prob=0.4).sample(4000, g)
    frac = sum(s[1:].count("0") for s in zeros) / sum(len(s) - 1 for s in zeros)
    assert 0.37 < frac < 0.43
    assert Task("zh", zero_prob=0.4).test_set == Task("zh").test_set  # the test set stays uniform


def test_sampling_is_reproducible_from_the_generator(zh):
    a = zh.sample(50, torch.Generator().manual_seed(7))
    b = zh.sample(50, torch.Generator().manual_seed(7))
    c = zh.sample(50, torch.Generator().manual_seed(8))
    assert a == b and a != c


def test_short_check_sets():
    assert Task("zh").short_set == [str(n) for n in range(100)]
    copy = Task("copy").short_set
    assert len(copy) == 110 and "07" in copy and "0" in copy


@pytest.mark.parametrize("name, source, target", [
    ("zh", "1204", "一千二百零四"), ("en", "21", "twenty-one"), ("copy", "0071", "0071"), ("reverse", "0071", "1700"),
])
def test_targets(name, source, target):
    assert get_task(name).target_text(source) == target


def test_batches_are_well_formed(zh):
    batches = list(zh.batches(16, seed=4, steps=3))
    assert len(batches) == 3 and all(isinstance(b, Batch) for b in batches)
    b = batches[0]
    assert b.src.shape[0] == b.tgt_in.shape[0] == b.tgt_out.shape[0] == 16 == b.src_lengths.shape[0]
    assert b.tgt_in.shape == b.tgt_out.shape
    assert torch.all(b.tgt_in[:, 0] == BOS)
    for i in range(16):
        n = int(b.src_lengths[i])
        source = zh.source_tokenizer.decode(b.src[i])
        assert len(source) == n and torch.all(b.src[i, n:] == PAD)
        target = to_chinese(int(source))
        out = b.tgt_out[i].tolist()
        assert out[len(target)] == EOS and all(t == PAD for t in out[len(target) + 1:])
        assert zh.target_tokenizer.decode(out) == target
        assert b.tgt_in[i, 1: len(target) + 1].tolist() == out[: len(target)]  # shifted by one
    again = list(zh.batches(16, seed=4, steps=1))[0]
    assert torch.equal(again.src, b.src)


def test_english_batches_and_max_length():
    en = Task("en")
    longest = max(len(to_english(n)) for n in (77_777_777, 73_373_373, 97_797_797))
    assert en.max_target_len >= longest
    zh = Task("zh")
    assert zh.max_target_len >= len(to_chinese(12_345_678))
    b = en.make_batch(["21", "1204"])
    assert en.target_tokenizer.decode(b.tgt_out[1]) == "one thousand two hundred four"


def test_batch_to_device_keeps_fields():
    b = Task("copy").make_batch(["12", "345"]).to("cpu")
    assert isinstance(b, Batch) and b.src.tolist() == [[5, 6, 0], [7, 8, 9]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="fr"), "unknown task"), (dict(name="zh", test_digits=(1, 8)), "test_digits"),
    (dict(name="zh", zero_prob=1.0), "zero_prob"), (dict(name="zh", test_size=0), "test_size"),
])
def test_bad_task_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Task(**kwargs)


def test_bad_sampling_arguments(zh):
    with pytest.raises(TypeError, match="Generator"):
        zh.sample(3, 0)
    with pytest.raises(ValueError, match="batch_size"):
        next(zh.batches(0))
    with pytest.raises(ValueError, match="split"):
        zh.split("train")
    assert set(TASK_NAMES) == {"zh", "en", "copy", "reverse"}
