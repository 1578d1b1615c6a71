"""The local pipeline: the cloud's moving parts on loopback, driving the same producer, handler and model code."""
