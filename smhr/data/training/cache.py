"""Decoded samples kept in memory across epochs, within a byte budget.

Reading a sample (JPEG decode of the image and of each hand's mask, annotation checks) is about
40% of the per-image loading time of a training batch on the ``cpu`` profile, and a stage visits
each image several times. :class:`CachedSamples` keeps the most recently used decoded samples,
least recently used out first, up to ``max_bytes``. The arrays of a cached sample are made
read-only, so code that would modify a shared sample in place fails loudly instead of changing
later epochs. With DataLoader workers, each worker process holds its own cache.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from smhr.data.datasets.sample import Hand, Sample


def _arrays(sample: Sample) -> list[np.ndarray]:
    """Every NumPy array a sample holds (its image, each hand's fields and MANO parameters)."""
    found = [sample.image]
    for hand in sample.hands:
        for f in dataclasses.fields(Hand):
            value = getattr(hand, f.name)
            if isinstance(value, np.ndarray):
                found.append(value)
            elif dataclasses.is_dataclass(value):
                found += [v for v in vars(value).values() if isinstance(v, np.ndarray)]
    return found


def sample_nbytes(sample: Sample) -> int:
    """The bytes of a sample's arrays."""
    return sum(a.nbytes for a in _arrays(sample))


class CachedSamples(Sequence[Sample]):
    """A least-recently-used cache of ``base[i]``, bounded by the bytes of the cached arrays.

    Args:
        base: the dataset (any sequence of samples; indexing it reads from disk).
        max_bytes: the budget; 0 turns caching off. A sample larger than it is never cached.
    """

    def __init__(self, base: Sequence[Sample], max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.base, self.max_bytes = base, max_bytes
        self._cache: OrderedDict[int, tuple[Sample, int]] = OrderedDict()
        self.nbytes = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        n = len(self)
        if not -n <= index < n:
            raise IndexError(index)
        index %= n
        entry = self._cache.get(index)
        if entry is not None:
            self._cache.move_to_end(index)
            self.hits += 1
            return entry[0]
        self.misses += 1
        sample = self.base[index]
        size = sample_nbytes(sample)
        if 0 < size <= self.max_bytes:
            for array in _arrays(sample):
                array.flags.writeable = False
            self._cache[index] = (sample, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, dropped) = self._cache.popitem(last=False)
                self.nbytes -= dropped
        return sample
