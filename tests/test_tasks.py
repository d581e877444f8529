"""Tokenizer and generated tasks: fixed ids, padding, the held-out set kept out of training (and free of
short numbers), uniform digit counts, well-formed batches."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from course.numerals import to_chinese, to_english
from course.tasks import HARD_CASES, HELD_OUT, SPLITS, TASK_NAMES, Batch, Task, get_task, hard_cases
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


# ------------------------------------------------------------------------------- evaluation splits

@pytest.mark.parametrize("name", TASK_NAMES)
def test_held_out_splits_are_disjoint_and_never_sampled(name):
    task = Task(name)
    sets = {split: task.split(split) for split in SPLITS}
    assert [len(sets[s]) for s in HELD_OUT] == [1000, 1000, 1000]
    for a in HELD_OUT:
        assert len(set(sets[a])) == len(sets[a])  # no repeats inside a split
        for b in HELD_OUT:
            if a < b:
                assert not set(sets[a]) & set(sets[b]), (a, b)
    seen = set(task.sample(30_000, torch.Generator().manual_seed(1)))
    assert not seen & set().union(*(set(sets[s]) for s in HELD_OUT))
    assert set(sets["short"]) <= seen  # the short split is seen in training, and labelled so
    assert task.split_label("short") == "short (seen in training)"


def test_splits_are_fixed_and_independent_of_each_other():
    zh = Task("zh")
    assert zh.test_set == Task("zh", valid_size=10, hard_size=10).test_set  # test does not move with the others
    assert zh.valid_set == Task("zh", hard_size=10).valid_set  # nor does valid with the hard split
    assert zh.hard_set == Task("zh").hard_set and zh.valid_set == Task("zh").valid_set  # fixed
    assert all(4 <= len(s) <= 8 and s[0] != "0" for s in zh.valid_set + zh.hard_set)


@pytest.mark.parametrize("source, cases", [
    ("1204", {"internal_zero"}), ("1200", set()), ("10005", {"internal_zero", "zero_run", "wan_boundary"}),
    ("10010", {"internal_zero", "zero_run", "wan_boundary", "teen_inside"}), ("3000000", {"wan_boundary"}),
    ("10001000", {"internal_zero", "zero_run"}), ("1015", {"internal_zero", "teen_inside"}), ("15", {"teen_leading"}),
    ("150000", {"wan_boundary", "teen_leading"}), ("115000", {"teen_leading"}), ("1115000", {"teen_inside"}), ("3120000", {"teen_inside", "wan_boundary"}), ("23456789", set()),
])
def test_hard_cases_by_hand(source, cases):
    assert hard_cases(source) == cases


def test_hard_cases_name_what_the_chinese_rules_do():
    """Each case is visible in the Chinese text itself (so the stratification means what it says)."""
    zh = Task("zh")
    for s in zh.hard_set + zh.test_set:
        text, cases = zh.target_text(s), hard_cases(s)
        if len(s) <= 4:  # one group: a zero between digits is exactly what makes a 零
            assert ("internal_zero" in cases) == ("零" in text), (s, text)
        if "zero_run" in cases:  # several zeros, one 零 (or none, when the run ends a group)
            assert "零零" not in text and text.count("零") < s.count("0"), (s, text)
        if "wan_boundary" in cases:  # 万 followed by 零, or by nothing at all
            assert "万零" in text or text.endswith("万"), (s, text)
        if "teen_inside" in cases:  # the 一 of 一十 is spoken inside a number
            assert "一十" in text, (s, text)
        assert ("teen_leading" in cases) == text.startswith("十"), (s, text)  # ... and dropped at its start
    with pytest.raises(ValueError, match="digits"):
        hard_cases("12a")


def test_training_knobs_shape_training_only():
    base = Task("zh")
    task = Task("zh", digit_weights=(0, 0, 0, 0, 0, 1, 0, 1), hard_fraction=0.5)
    assert (task.test_set, task.valid_set, task.hard_set) == (base.test_set, base.valid_set, base.hard_set)
    drawn = task.sample(2000, torch.Generator().manual_seed(2))
    lengths = Counter(len(s) for s in drawn)
    assert set(lengths) <= set(range(1, 9)) and lengths[6] + lengths[8] > 0.6 * 2000  # 6 or 8 digits, or a hard case (十二 has 2)
    cases = Counter(c for s in drawn for c in hard_cases(s))
    assert cases["zero_run"] > 150 and cases["teen_leading"] > 150  # ~1000 hard draws, a fifth of each kind
    assert not set(drawn) & set(task.hard_set) and not set(drawn) & set(task.test_set)
    with pytest.raises(ValueError, match="digit_weights"):
        Task("zh", digit_weights=(1, 1))
    with pytest.raises(ValueError, match="hard_fraction"):
        Task("zh", hard_fraction=1.5)


def test_the_stratified_split_is_heavy_in_every_hard_case():
    zh = Task("zh")
    hard = Counter(case for s in zh.hard_set for case in hard_cases(s))
    test = Counter(case for s in zh.test_set for case in hard_cases(s))
    for case in HARD_CASES:
        assert hard[case] >= 200, (case, hard[case])  # at least its fifth of the 1000
        assert hard[case] >= 1.5 * test[case], (case, hard[case], test[case])  # more than a uniform draw has
        if test[case] < 100:  # the rare cases (under a tenth of a uniform draw), far more
            assert hard[case] >= 3 * test[case], (case, hard[case], test[case])
    assert test["zero_run"] < 60 and hard["zero_run"] >= 200  # the rarest case, counted

