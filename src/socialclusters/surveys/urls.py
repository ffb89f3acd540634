"""Pages of surveys, evidence and typology, mounted under /surveys/."""

from django.urls import URLPattern

app_name = "surveys"
urlpatterns: list[URLPattern] = []
