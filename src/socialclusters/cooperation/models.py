"""Models of cooperation and matchmaking."""
