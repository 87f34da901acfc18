"""The decoded-sample cache: same samples, bounded memory, least recently used out first."""

from __future__ import annotations

import numpy as np
import pytest

from smhr.data.datasets.sample import Hand, Sample
from smhr.data.training.cache import CachedSamples, sample_nbytes


class CountingSet:
    """Makes a fresh 8x8 sample (64 + 64 mask + small arrays bytes) per read, counting reads."""

    def __init__(self, n: int) -> None:
        self.n, self.reads = n, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Sample:
        self.reads += 1
        hand = Hand(side="right", joints2d=np.full((21, 2), index, np.float32), visible=np.ones(21, bool),
                    bbox=np.zeros(4, np.float32), K=np.eye(3, dtype=np.float32), mask=np.zeros((8, 8), bool))
        return Sample(image=np.full((8, 8, 3), index, np.uint8), hands=[hand], source=f"s{index}")


def test_cache_returns_the_same_samples_and_reads_each_once():
    base = CountingSet(5)
    cached = CachedSamples(base, 10**6)
    first = [cached[i] for i in range(5)]
    again = [cached[i] for i in (4, 3, 2, 1, 0, -1)]
    assert base.reads == 5 and (cached.hits, cached.misses) == (6, 5)
    assert again[-1] is first[4] and all(a is b for a, b in zip(again[:5], first[::-1]))
    assert cached.nbytes == sum(sample_nbytes(s) for s in first)
    with pytest.raises(IndexError):
        cached[5]


def test_cache_drops_the_least_recently_used_within_its_budget():
    base = CountingSet(4)
    size = sample_nbytes(base[0])
    base.reads = 0
    cached = CachedSamples(base, 2 * size)
    cached[0], cached[1], cached[0], cached[2]  # 1 is the least recently used when 2 comes in
    assert cached.nbytes == 2 * size
    cached[0]
    assert base.reads == 3
    cached[1]
    assert base.reads == 4
    off = CachedSamples(base, 0)
    off[0], off[0]
    assert base.reads == 6 and off.nbytes == 0


def test_cached_arrays_are_read_only_so_no_one_changes_a_later_epoch():
    cached = CachedSamples(CountingSet(2), 10**6)
    sample = cached[0]
    with pytest.raises(ValueError):
        sample.image[0, 0, 0] = 7
    with pytest.raises(ValueError):
        sample.hands[0].mask[0, 0] = True
    assert cached[0].image.max() == 0
