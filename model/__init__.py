"""The anomaly model: features (shared with the scorer), detectors, training, artifact, serving."""
