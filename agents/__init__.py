"""Faust agents: thin loops that decode, call the pure core, write to Redis, then let Faust ack."""
