"""Live-view components: Python wrappers with their JavaScript (components v2)."""
