"""Models of surveys, evidence and typology."""
