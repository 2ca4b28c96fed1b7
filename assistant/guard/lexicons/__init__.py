"""Word lists and templates of the guard, read with importlib.resources (package data, not code)."""
