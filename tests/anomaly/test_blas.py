"""Specification of the BLAS limit around the detector's matrix products."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from rules.anomaly.blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_the_block_and_as_before_after_it():
    before = _blas_threads()
    with one_blas_thread():
        assert set(_blas_threads()) <= {1}
    assert _blas_threads() == before
