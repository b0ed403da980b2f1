"""The sentences' numbers agree with their nouns."""

from mnist_core.common.wording import count


def test_a_count_agrees_with_its_noun():
    assert count(1, "epoch") == "1 epoch" and count(0, "epoch") == "0 epochs"
    assert count(3, "full epoch") == "3 full epochs" and count(12_000, "image") == "12,000 images"
    assert count(2, "child", "children") == "2 children"
