"""Data: the sample contract, dataset adapters, synthetic data, multi-hand composition, training-time loading.

Rooms:

* :mod:`smhr.data.datasets`: the :class:`~smhr.data.datasets.sample.Sample` contract, file reading
  (:mod:`~smhr.data.datasets.imageio`), one adapter per on-disk format (FreiHAND, HO3D, InterHand2.6M,
  RHD, our composed set) and :mod:`~smhr.data.datasets.check` (open any dataset by name, validate it).
* :mod:`smhr.data.synth`: the synthetic single-hand set (viewpoints, appearance, backgrounds, rendering).
* :mod:`smhr.data.compose`: pasting single hands into multi-hand images.
* :mod:`smhr.data.transforms`: image warps and the similarity/mirror transforms every annotation follows.
* :mod:`smhr.data.training`: what the trainer iterates: augmentation, targets at the output stride,
  the torch Dataset and collate.
"""
