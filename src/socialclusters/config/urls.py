"""URL map: public pages, accounts, the admin (secretariat) and the JSON API."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from socialclusters.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("socialclusters.accounts.urls")),
    path("map/", include("socialclusters.mapping.urls")),
    path("workinggroup/", include("socialclusters.workinggroup.urls")),
    path("surveys/", include("socialclusters.surveys.urls")),
    path("cooperation/", include("socialclusters.cooperation.urls")),
    path("", include("socialclusters.registry.urls")),
    prefix_default_language=False,
)
