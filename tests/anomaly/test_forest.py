"""The compiled isolation forest scores exactly as scikit-learn's, for any fitted forest."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import IsolationForest

from rules.anomaly.forest import CompiledForest


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    trees=st.integers(1, 60),
    samples=st.integers(2, 300),
    features=st.integers(1, 12),
    max_features=st.sampled_from([1.0, 0.5]),
)
def test_scores_equal_scikit_learn_bit_for_bit(seed, trees, samples, features, max_features) -> None:
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(samples, features)) * rng.uniform(0.01, 1000, size=features)
    forest = IsolationForest(n_estimators=trees, max_samples=min(256, samples), max_features=max_features,
                             random_state=seed).fit(train)
    rows = np.vstack([train[:20], rng.normal(size=(30, features)) * 500, np.full((1, features), 1e30)])
    assert np.array_equal(CompiledForest(forest).score_samples(rows), forest.score_samples(rows))


def test_a_single_row_can_be_scored_as_a_vector() -> None:
    rng = np.random.default_rng(0)
    forest = IsolationForest(n_estimators=10, random_state=0).fit(rng.normal(size=(100, 3)))
    row = rng.normal(size=3)
    assert CompiledForest(forest).score_samples(row) == forest.score_samples(row.reshape(1, -1))
