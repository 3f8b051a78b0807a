"""Allow `python -m insights`."""

from insights.cli import main

main()
