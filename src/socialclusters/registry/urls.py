"""Pages of the registry. Names are global (no namespace): ``home`` is the site's landing page."""

from django.urls import path

from socialclusters.registry import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("clusters/", views.cluster_list, name="cluster_list"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster_detail"),
    path("clusters/<int:pk>/edit/", views.cluster_edit, name="cluster_edit"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("my-profiles/", views.my_profiles, name="my_profiles"),
    path("secretariat/changes/", views.validation_queue, name="validation_queue"),
    path("secretariat/changes/<int:pk>/validate/", views.change_validate, name="change_validate"),
    path("secretariat/changes/<int:pk>/return/", views.change_return, name="change_return"),
    path("secretariat/duplicates/", views.duplicate_list, name="duplicate_list"),
    path("secretariat/duplicates/<int:pk>/decide/", views.duplicate_decide, name="duplicate_decide"),
]
