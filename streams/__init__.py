"""The pipeline: Faust app factory, topics, settings, Redis store, and the pure counting core."""
