"""Pages of cooperation and matchmaking, mounted under /cooperation/."""

from django.urls import URLPattern

app_name = "cooperation"
urlpatterns: list[URLPattern] = []
