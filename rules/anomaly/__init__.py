"""Anomaly detection and early warning (预警): streaming detectors, trend forecasts, model storage.

Public API:

* :class:`rules.anomaly.detector.StreamingDetector` and :class:`~rules.anomaly.detector.Score`
* :class:`rules.anomaly.forecast.Forecaster` and :class:`~rules.anomaly.forecast.Forecast`
* :class:`rules.anomaly.config.DetectorConfig`
* :mod:`rules.anomaly.store`: versioned model storage and training from history
"""
