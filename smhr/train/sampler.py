"""A deterministic, resumable, distributed batch order.

Epoch ``e`` visits a permutation drawn from ``(seed, e)``; with W processes, rank ``r`` takes every
W-th index of each global batch, so the union over ranks of one step is exactly the global batch a
single process would take (this is what makes 1 process and 2 processes agree). ``position`` is
the number of global batches already consumed in the current epoch, saved in checkpoints: a resumed
run continues with the very next batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


class ResumableBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Yields this rank's share of each global batch, from ``position`` to the end of the epoch.

    Args:
        num_samples: dataset length N.
        global_batch: images per optimiser step over all processes (a multiple of ``world``).
        seed: base seed of the permutations.
        rank: this process's rank.
        world: number of processes.
        drop_last: drop an incomplete final global batch (training) or keep it (evaluation).
        shuffle: permute each epoch (training) or keep dataset order.
    """

    def __init__(self, num_samples: int, global_batch: int, seed: int = 0, rank: int = 0, world: int = 1,
                 drop_last: bool = True, shuffle: bool = True) -> None:
        if num_samples < 1:
            raise ValueError("ResumableBatchSampler: the dataset is empty")
        if global_batch < world or global_batch % world:
            raise ValueError(f"ResumableBatchSampler: global batch {global_batch} must be a positive multiple of "
                             f"the {world} processes")
        self.num_samples, self.global_batch, self.seed = num_samples, global_batch, seed
        self.rank, self.world, self.drop_last, self.shuffle = rank, world, drop_last, shuffle
        self.epoch = 0
        self.position = 0

    def batches_per_epoch(self) -> int:
        """Global batches in one epoch."""
        full, rest = divmod(self.num_samples, self.global_batch)
        return full + (0 if self.drop_last or rest == 0 else 1)

    def set_state(self, epoch: int, position: int) -> None:
        """Continue at global batch ``position`` of ``epoch``."""
        self.epoch, self.position = epoch, position

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's sample order (N,)."""
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.order(self.epoch)
        for b in range(self.position, self.batches_per_epoch()):
            batch = order[b * self.global_batch:(b + 1) * self.global_batch]
            yield [int(i) for i in batch[self.rank::self.world]]

    def __len__(self) -> int:
        return self.batches_per_epoch() - self.position
