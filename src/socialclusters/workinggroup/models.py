"""Models of the working group."""
