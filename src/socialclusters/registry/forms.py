"""Forms of the registry pages: directory filters, profile edits and secretariat decisions.

Forms only shape input; the rules live in ``selectors`` (filters) and ``services`` (writes), whose
errors come back onto the form through ``socialclusters.web.form_errors``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from socialclusters.registry import selectors
from socialclusters.registry.models import (
    SOCIAL_ECONOMY_KINDS,
    Cluster,
    ClusterKind,
    MemberType,
    Organisation,
    OrganisationKind,
    Region,
)
from socialclusters.registry.services import CLUSTER_EDITABLE_FIELDS, ORGANISATION_EDITABLE_FIELDS

HTML_PAGE_SIZE = 25


class ListFilterForm(forms.Form):
    """Shared by both directories: what the form asks, and how to put it back into a query string."""

    filter_names: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def query_items(self) -> list[tuple[str, str]]:
        """The filters in effect, for download links and pagination (empty ones left out)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return [(name, str(data[name])) for name in self.filter_names if data.get(name) not in (None, "")]

    def page_number(self) -> int:
        return (self.cleaned_data.get("page") if hasattr(self, "cleaned_data") else None) or 1


class OrganisationFilterForm(ListFilterForm):
    filter_names = ("q", "country", "nuts", "se_family", "nace", "cluster")

    q = forms.CharField(
        label=_("Search"), required=False, max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, town or web domain"), "autocomplete": "off"}),
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    nuts = forms.ChoiceField(label=_("NUTS 2 region"), required=False)
    se_family = forms.ChoiceField(label=_("Social economy family"), required=False)
    nace = forms.ChoiceField(label=_("NACE section"), required=False)
    cluster = forms.TypedChoiceField(label=_("Cluster"), required=False, coerce=int, empty_value=None)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        cast(forms.ChoiceField, self.fields["country"]).choices = everything + [
            (c.code, c.name) for c in selectors.countries_with_organisations()
        ]
        placed_nuts2 = Organisation.objects.exclude(nuts2="").values_list("nuts2", flat=True).distinct()
        cast(forms.ChoiceField, self.fields["nuts"]).choices = everything + [
            (r.code, f"{r.code} {r.name_latn}")
            for r in Region.objects.filter(level=2, code__in=placed_nuts2).order_by("code")
        ]
        cast(forms.ChoiceField, self.fields["se_family"]).choices = [
            ("", _("All kinds of organisation")),
            (selectors.ANY_SOCIAL_ECONOMY, _("Any social economy family")),
        ] + [(k.value, k.label) for k in OrganisationKind if k in SOCIAL_ECONOMY_KINDS]
        cast(forms.ChoiceField, self.fields["nace"]).choices = everything + [
            (s.code, f"{s.code} {s.label}") for s in selectors.nace_sections()
        ]
        cast(forms.ChoiceField, self.fields["cluster"]).choices = everything + [
            (c.pk, c.name) for c in selectors.visible_clusters(user).filter(memberships__isnull=False).distinct()
            .order_by("name")
        ]

    def filters(self) -> selectors.OrganisationFilters:
        data = self.cleaned_data
        return selectors.OrganisationFilters(
            q=data.get("q") or "", country=data.get("country") or "", nuts=data.get("nuts") or "",
            se_family=data.get("se_family") or "", nace=data.get("nace") or "", cluster=data.get("cluster"),
        )


class ClusterFilterForm(ListFilterForm):
    filter_names = ("q", "country", "kind")

    q = forms.CharField(
        label=_("Search"), required=False, max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, town or theme"), "autocomplete": "off"}),
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    kind = forms.ChoiceField(label=_("Kind of cluster"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = (
            selectors.visible_clusters(user).exclude(country=None)
            .values_list("country__code", "country__name").distinct().order_by("country__name")
        )
        cast(forms.ChoiceField, self.fields["country"]).choices = [("", _("All")), *countries]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("All")), *ClusterKind.choices]

    def filters(self) -> selectors.ClusterFilters:
        data = self.cleaned_data
        return selectors.ClusterFilters(q=data.get("q") or "", country=data.get("country") or "",
                                        kind=data.get("kind") or "")


# --- profile edits --------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of short texts, one per line (themes, alternative names)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        text = super().to_python(value)
        assert text is not None  # empty_value is left at ""
        return [line.strip() for line in text.splitlines() if line.strip()]


def _nullable_boolean() -> forms.NullBooleanField:
    return forms.NullBooleanField(required=False, widget=forms.NullBooleanSelect)


class ProfileForm(forms.Form):
    """A manager's edit of a profile; only the fields the services allow, initial values from the profile."""

    editable_fields: tuple[str, ...] = ()
    model: type[Cluster] | type[Organisation]

    def __init__(self, *args: Any, instance: Cluster | Organisation, **kwargs: Any) -> None:
        initial = {name: getattr(instance, name) for name in self.editable_fields}
        kwargs.setdefault("label_suffix", "")
        # mypy cannot tell that *args (data, files) stops before the positional `initial`.
        super().__init__(*args, initial=initial, **kwargs)  # type: ignore[misc]
        self.instance = instance
        for name, field in self.fields.items():
            model_field = self.model._meta.get_field(name)
            assert isinstance(model_field, models.Field)  # editable fields are the model's own, not relations
            if field.label is None:
                field.label = capfirst(model_field.verbose_name)
            if model_field.help_text and not field.help_text:
                field.help_text = model_field.help_text

    def proposed_values(self) -> dict[str, Any]:
        """Only what the person changed, so that an untouched field never counts as a change."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ClusterProfileForm(ProfileForm):
    editable_fields = CLUSTER_EDITABLE_FIELDS
    model = Cluster

    name = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    themes = LinesField(required=False, help_text=_("One theme per line."))
    city = forms.CharField(required=False, max_length=200)
    website = forms.URLField(required=False, max_length=500, assume_scheme="https")
    website_in_english = _nullable_boolean()
    management_fte = forms.DecimalField(required=False, min_value=0, max_digits=6, decimal_places=2,
                                        help_text=_("Full-time equivalents, for example 1.5."))
    founded_year = forms.IntegerField(required=False, min_value=1800, max_value=2100)
    public_support = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    receives_public_support = _nullable_boolean()
    tracks_impact = _nullable_boolean()
    declared_member_types = forms.MultipleChoiceField(
        required=False, choices=MemberType.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("The kinds of members the cluster says it has."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.initial.get("declared_member_types") is None:
            self.initial["declared_member_types"] = []


class OrganisationProfileForm(ProfileForm):
    editable_fields = ORGANISATION_EDITABLE_FIELDS
    model = Organisation

    name = forms.CharField(max_length=300)
    alt_names = LinesField(required=False, help_text=_("One name per line."))
    address = forms.CharField(required=False, max_length=300)
    postcode = forms.CharField(required=False, max_length=20)
    city = forms.CharField(required=False, max_length=200)
    website = forms.URLField(required=False, max_length=500, assume_scheme="https")
    # size_band is declared with choices, so they are never None here.
    size_band = forms.ChoiceField(
        required=False, choices=cast("list[tuple[str, Any]]", Organisation._meta.get_field("size_band").choices)
    )
    founded = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


# --- secretariat decisions ------------------------------------------------------------------


class ReturnChangeForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    reason = forms.CharField(
        label=_("Reason for returning"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sent to the author, who can fix the change and propose it again."),
    )


class DuplicateDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("merge", _("Merge")), ("dismiss", _("Not duplicates"))])
