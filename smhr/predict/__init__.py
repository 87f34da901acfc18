"""``smhr predict``: the network on users' images, folders and videos (see :mod:`smhr.predict.run`).

Rooms: :mod:`.inputs` (discovery and decoding by content), :mod:`.letterbox` (image <-> network
input, pixels and intrinsics), :mod:`.results` (mapping back, JSON records), :mod:`.outdir`
(``--out`` checks and all-or-nothing staging), :mod:`.run` (the loop).
"""
