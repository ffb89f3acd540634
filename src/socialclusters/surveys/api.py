"""API operations of surveys, evidence and typology (mounted at /api/v1/; paths start with /surveys)."""

from ninja import Router

router = Router()
