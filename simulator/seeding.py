"""Independent, reproducible random streams derived from one user seed."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["rng_for"]


def rng_for(seed: int, stream: str, *keys: int) -> np.random.Generator:
    """Return a generator that depends only on ``seed``, the stream name and ``keys``.

    Streams let each part of the world (customers, the orders of one date, ...) draw from its own
    sequence, so generating one part never shifts the numbers another part sees.

    Parameters
    ----------
    seed : int
        The user's seed (non-negative).
    stream : str
        Name of the stream, e.g. ``"orders"``.
    *keys : int
        Further non-negative integers, e.g. the ordinal of a service date.

    Raises
    ------
    ValueError
        If ``seed`` or a key is negative.
    """
    if seed < 0 or any(k < 0 for k in keys):
        raise ValueError(f"seed and keys must be non-negative, got seed={seed}, keys={keys}")
    stream_key = zlib.crc32(stream.encode("utf-8"))
    return np.random.default_rng([int(seed), stream_key, *(int(k) for k in keys)])
