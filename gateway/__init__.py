"""MQTT gateway: topics, payload codecs, validation, device identity, presence and dead letters."""
