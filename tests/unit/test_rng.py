"""Named random streams: reproducible, independent, and free of process state."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from scipy import stats

from sim.rng import Streams, run_seed

ALPHA = 1e-4


def draws(streams: Streams, name: str, *keys: int, n: int = 8) -> np.ndarray:
    return streams.generator(name, *keys).random(n)


def test_same_seed_name_and_keys_give_the_same_numbers():
    """A stream is a function of root seed, name and keys only."""
    a = draws(Streams(42), "match", 3, 1)
    b = draws(Streams(42), "match", 3, 1)
    np.testing.assert_array_equal(a, b)


def test_streams_do_not_depend_on_the_order_they_are_asked_for():
    """Asking for other streams first does not shift a stream's numbers."""
    first = Streams(7)
    x = draws(first, "experience", 2)
    second = Streams(7)
    for name in ("match", "ration", "content", "governance"):
        second.generator(name, 2).random(1000)
    np.testing.assert_array_equal(draws(second, "experience", 2), x)


def test_different_names_keys_or_seeds_give_different_numbers():
    """Changing the name, any key or the root seed changes the stream."""
    base = draws(Streams(1), "match", 0, 0)
    for other in (
        draws(Streams(1), "ration", 0, 0),
        draws(Streams(1), "match", 1, 0),
        draws(Streams(1), "match", 0, 1),
        draws(Streams(1), "match", 0),
        draws(Streams(2), "match", 0, 0),
    ):
        assert not np.array_equal(base, other)


def test_two_streams_are_uncorrelated():
    """Draws of two named streams show no correlation beyond sampling error."""
    n = 20_000
    s = Streams(123)
    a = s.generator("consumers", 0, 0).random(n)
    b = s.generator("consumers", 0, 1).random(n)
    assert stats.pearsonr(a, b).pvalue > ALPHA


def test_stream_draws_are_uniform():
    """A stream's uniforms pass a Kolmogorov-Smirnov test against U(0, 1)."""
    u = Streams(5).generator("content", 4).random(10_000)
    assert stats.kstest(u, "uniform").pvalue > ALPHA


def test_seed_int_is_a_reproducible_63_bit_integer():
    """seed_int gives the same non-negative integer below 2**63 for the same name and keys."""
    a = Streams(9).seed_int("mesa")
    assert a == Streams(9).seed_int("mesa")
    assert isinstance(a, int) and 0 <= a < 2**63
    assert a != Streams(9).seed_int("mesa", 1)


def test_run_seeds_are_distinct_and_not_neighbouring_integers():
    """Run i of root r differs from run j, and run 1 of r is not run 0 of r + 1."""
    r0 = draws(Streams(run_seed(100, 0)), "x")
    r1 = draws(Streams(run_seed(100, 1)), "x")
    next_root = draws(Streams(run_seed(101, 0)), "x")
    assert not np.array_equal(r0, r1)
    assert not np.array_equal(r1, next_root)
    np.testing.assert_array_equal(r1, draws(Streams(run_seed(100, 1)), "x"))


def test_a_seed_sequence_root_is_used_as_is():
    """Streams built from a SeedSequence reproduce those built from the same sequence again."""
    seq = np.random.SeedSequence(77, spawn_key=(3,))
    a = draws(Streams(seq), "match", 1)
    b = draws(Streams(np.random.SeedSequence(77, spawn_key=(3,))), "match", 1)
    np.testing.assert_array_equal(a, b)


def test_streams_are_the_same_in_another_process_with_another_hash_seed():
    """Stream names are keyed without Python's salted hash: another process agrees."""
    code = (
        "from sim.rng import Streams; "
        "print(repr(Streams(2024).generator('creators.select', 5, 2).random(3).tolist()))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    here = Streams(2024).generator("creators.select", 5, 2).random(3).tolist()
    assert out == repr(here)
