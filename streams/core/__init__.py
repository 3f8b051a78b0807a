"""Pure rules of DESIGN.md: no faust, redis, HTTP or prometheus imports (a test enforces it)."""
