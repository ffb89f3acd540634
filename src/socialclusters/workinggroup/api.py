"""API operations of the working group (mounted at /api/v1/; paths start with /workinggroup)."""

from ninja import Router

router = Router()
