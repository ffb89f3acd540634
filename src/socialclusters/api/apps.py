from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "socialclusters.api"
    verbose_name = "API"
