"""The JSON API, mounted at /api/v1/: one router module per app."""

from ninja import NinjaAPI

api = NinjaAPI(title="socialclusters API", version="1", urls_namespace="api")
