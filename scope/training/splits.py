"""Train / validation / test splits, balancing and class weights.

Differences from the reference (its bugs, see the spec §9.7):

- splits are **stratified** on the target, so every split keeps the class ratio;
- ``val_size`` is a fraction of the whole set (the reference applied it to what was left after
  the test split, giving ~9 % instead of 10 %);
- balancing looks at the *training* counts to decide which side to down-sample;
- class weights come from the training counts actually used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scope.errors import DataError

log = logging.getLogger(__name__)


@dataclass
class Split:
    """Positions (into the example arrays) of each split; ``dropped`` are balanced-away rows."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    dropped: np.ndarray

    def counts(self, target: np.ndarray) -> dict:
        """``{split: {"pos": n, "neg": n}}`` for the given 0/1 targets."""
        out = {}
        for name in ("train", "val", "test", "dropped"):
            idx = getattr(self, name)
            pos = int(np.sum(target[idx] == 1))
            out[name] = {"pos": pos, "neg": int(len(idx) - pos)}
        return out


def stratified_split(target: np.ndarray, test_size: float, val_size: float, random_state: int) -> Split:
    """Split example positions into train/val/test keeping the positive fraction in each.

    Parameters
    ----------
    target : numpy.ndarray
        0/1 target per example.
    test_size, val_size : float
        Fractions of all examples for the test and validation splits.
    random_state : int
        Seed; the same seed gives the same split.

    Returns
    -------
    Split
        Sorted positions for each split (``dropped`` empty).
    """
    from sklearn.model_selection import train_test_split

    target = np.asarray(target).astype(int)
    positions = np.arange(len(target))
    test = np.array([], dtype=int)
    rest = positions
    if test_size > 0:
        rest, test = train_test_split(positions, test_size=test_size, random_state=random_state,
                                      shuffle=True, stratify=target)
    val_fraction = val_size / (1.0 - test_size)
    train, val = train_test_split(rest, test_size=val_fraction, random_state=random_state,
                                  shuffle=True, stratify=target[rest])
    return Split(np.sort(train), np.sort(val), np.sort(test), np.array([], dtype=int))


def balance_training(split: Split, target: np.ndarray, balance: float | None, random_state: int) -> Split:
    """Down-sample the majority class of the training split to at most ``balance`` x the minority.

    ``balance=None`` returns the split unchanged. Removed rows go to ``split.dropped``.
    """
    if not balance:
        return split
    train = split.train
    pos = train[target[train] == 1]
    neg = train[target[train] == 0]
    major, minor = (neg, pos) if len(neg) >= len(pos) else (pos, neg)
    keep_n = int(min(len(major), len(minor) * balance))
    if keep_n >= len(major):
        return split
    rng = np.random.default_rng(random_state)
    keep = np.sort(rng.choice(major, size=keep_n, replace=False))
    dropped = np.setdiff1d(major, keep)
    log.info("balance %.3g: kept %d of %d %s training examples", balance, keep_n, len(major),
             "negative" if major is neg else "positive")
    new_train = np.sort(np.concatenate([minor, keep]))
    return Split(new_train, split.val, split.test, np.sort(dropped))


def class_weights(target: np.ndarray, enabled: bool) -> dict:
    """Weights ``{0: w0, 1: w1}``: the minority class 1.0, the majority ``n_min / n_maj``.

    With ``enabled=False`` both weights are 1 (the reference's default).
    """
    if not enabled:
        return {0: 1.0, 1: 1.0}
    n_neg = int(np.sum(target == 0))
    n_pos = int(np.sum(target == 1))
    if n_neg == 0 or n_pos == 0:
        raise DataError("class weights need both positive and negative training examples")
    inv = np.array([1.0 / n_neg, 1.0 / n_pos])
    inv = inv / inv.max()
    return {0: float(inv[0]), 1: float(inv[1])}
