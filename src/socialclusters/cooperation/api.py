"""API operations of cooperation and matchmaking (mounted at /api/v1/; paths start with /cooperation)."""

from ninja import Router

router = Router()
