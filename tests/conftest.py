"""Settings for the whole suite."""

from hypothesis import settings

# Hypothesis fails an example that takes over 200 ms by default: a timed assertion, and on two
# cores shared with a broker, Redis and Chromium a cold first example can take that long. Speed
# is measured by the benchmarks in bench/, never by tests.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
