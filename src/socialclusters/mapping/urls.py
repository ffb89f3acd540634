"""Pages of the mapping app, mounted at /map/."""

from django.urls import path

from socialclusters.mapping import views

app_name = "mapping"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("candidates/", views.candidates, name="candidates"),
    path("candidates/<int:pk>/review/", views.candidate_review, name="candidate_review"),
]
