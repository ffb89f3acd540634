"""Pages of the working group, mounted under /workinggroup/."""

from django.urls import URLPattern

app_name = "workinggroup"
urlpatterns: list[URLPattern] = []
