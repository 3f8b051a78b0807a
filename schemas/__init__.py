"""Event contracts: typed models, JSON Schema files and one decode-and-validate entry point."""
