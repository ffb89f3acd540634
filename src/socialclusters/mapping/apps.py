from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MappingConfig(AppConfig):
    name = "socialclusters.mapping"
    verbose_name = _("Mapping and regional statistics")
