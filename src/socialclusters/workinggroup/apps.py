from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkinggroupConfig(AppConfig):
    name = "socialclusters.workinggroup"
    verbose_name = _("The working group")
