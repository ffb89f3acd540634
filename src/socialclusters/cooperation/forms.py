"""Forms of the cooperation pages: they check the shape of input; the services check its meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from socialclusters.cooperation.models import (
    LANGUAGES,
    MatchingSettings,
    ProfileKind,
    Seeking,
    SocialClause,
    ValueBand,
)
from socialclusters.registry.models import Cluster, Organisation

DATE = forms.DateInput(attrs={"type": "date"})


class OrganisationChoiceMixin:
    """An ``organisation`` field limited to the organisations the user may act for."""

    def set_organisations(self, organisations: list[Organisation], field: str = "organisation") -> None:
        self.fields[field].choices = [(o.pk, o.name) for o in organisations]  # type: ignore[attr-defined]


class ProfileForm(OrganisationChoiceMixin, forms.Form):
    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int, required=False, empty_value=None)
    cluster = forms.TypedChoiceField(label=_("On behalf of the cluster"), coerce=int, required=False,
                                     empty_value=None,
                                     help_text=_("Clusters you manage; the profile then belongs to the cluster "
                                                 "organisation that runs the cluster."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ProfileKind.choices, widget=forms.RadioSelect)
    seeking = forms.MultipleChoiceField(label=_("Looking for (requests)"), choices=Seeking.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000,
                                  help_text=_("What you offer or seek, in any language."))
    sectors = forms.CharField(label=_("Sectors (NACE codes, comma-separated)"), required=False,
                              help_text=_("For example 88.10, 38"))
    regions = forms.CharField(label=_("Regions (NUTS codes, comma-separated)"), required=False,
                              help_text=_("For example FR101, BE1"))
    languages = forms.MultipleChoiceField(label=_("Working languages"), choices=LANGUAGES, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    cross_border = forms.BooleanField(label=_("Cross-border cooperation welcome"), required=False)
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=DATE)

    def set_choices(self, organisations: list[Organisation], clusters: list[Cluster]) -> None:
        """Offer the organisations and clusters the user manages; without clusters, organisations only."""
        self.set_organisations(organisations)
        if not clusters:
            del self.fields["cluster"]
            return
        field, organisation = self.fields["cluster"], self.fields["organisation"]
        assert isinstance(field, forms.ChoiceField)
        assert isinstance(organisation, forms.ChoiceField)
        field.choices = [("", _("None: for the organisation itself")), *((c.pk, c.name) for c in clusters)]
        organisation.choices = [("", _("The cluster's organisation")), *((o.pk, o.name) for o in organisations)]

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["sectors"] = [c.strip() for c in data["sectors"].split(",") if c.strip()]
        data["regions"] = [c.strip() for c in data["regions"].split(",") if c.strip()]
        return data


class OpportunityForm(OrganisationChoiceMixin, forms.Form):
    organisation = forms.TypedChoiceField(label=_("Buyer"), coerce=int)
    title = forms.CharField(label=_("What you buy"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    sector = forms.CharField(label=_("Sector (NACE code)"), required=False, max_length=5)
    region = forms.CharField(label=_("Where (NUTS code)"), required=False, max_length=5)
    starts_on = forms.DateField(label=_("From"), required=False, widget=DATE)
    ends_on = forms.DateField(label=_("Until"), required=False, widget=DATE)
    deadline = forms.DateField(label=_("Answers by"), widget=DATE)
    value_band = forms.ChoiceField(label=_("Value band"), choices=ValueBand.choices)
    social_clauses = forms.MultipleChoiceField(label=_("Social clauses"), choices=SocialClause.choices,
                                               required=False, widget=forms.CheckboxSelectMultiple)
    how_to_answer = forms.CharField(label=_("How to answer"), widget=forms.Textarea(attrs={"rows": 3}),
                                    max_length=2000)
    languages = forms.MultipleChoiceField(label=_("Working languages"), choices=LANGUAGES, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    cross_border = forms.BooleanField(label=_("Suppliers from other countries welcome"), required=False)


class InterestForm(OrganisationChoiceMixin, forms.Form):
    organisation = forms.TypedChoiceField(label=_("On behalf of"), coerce=int)
    message = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=3000)


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("accept", _("Accept")), ("decline", _("Decline"))],
                                 widget=forms.RadioSelect)
    answer = forms.CharField(label=_("Answer (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=3000)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("approve", _("Publish")), ("return", _("Return"))],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason (when returning)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ContractForm(forms.Form):
    buyer = forms.IntegerField(label=_("Buyer (organisation number)"), min_value=1)
    supplier = forms.IntegerField(label=_("Supplier (organisation number)"), min_value=1)
    value_band = forms.ChoiceField(label=_("Value band"), choices=ValueBand.choices)
    signed_on = forms.DateField(label=_("Date"), widget=DATE)
    social_clauses_met = forms.MultipleChoiceField(label=_("Social clauses met"), choices=SocialClause.choices,
                                                   required=False, widget=forms.CheckboxSelectMultiple)
    sector = forms.CharField(label=_("Sector (NACE code; the supplier's when empty)"), required=False, max_length=5)
    cluster = forms.IntegerField(label=_("Through the cluster (number, optional)"), required=False, min_value=1)
    interest = forms.IntegerField(label=_("From the expression of interest (number, optional)"), required=False,
                                  min_value=1)


class SuggestionFilterForm(forms.Form):
    family = forms.ChoiceField(label=_("Partners"), required=False, choices=[
        ("any", _("Any")), ("social_economy", _("Only social economy")), ("traditional", _("Only traditional"))])
    other_countries = forms.BooleanField(label=_("Only other countries"), required=False)
    area = forms.ChoiceField(label=_("Regions"), required=False, choices=[
        ("any", _("Any")), ("rural", _("Only predominantly rural")), ("urban", _("Only predominantly urban"))])
    cluster = forms.IntegerField(label=_("Only members of the cluster (number)"), required=False, min_value=1)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = MatchingSettings
        fields = [*MatchingSettings.WEIGHT_FIELDS, "review_before_publication", "profile_lifetime_days"]


class LevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("NUTS level"), coerce=int, required=False, initial=2,
                                   choices=[(0, "0"), (1, "1"), (2, "2"), (3, "3")])


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    venue = forms.CharField(label=_("Venue"), max_length=300)
    first_slot_at = forms.DateTimeField(label=_("First meeting slot starts at"),
                                        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    slot_minutes = forms.IntegerField(label=_("Minutes per slot"), min_value=1, max_value=240, initial=20)
    slots = forms.IntegerField(label=_("Number of slots"), min_value=1, max_value=96, initial=12)
    tables = forms.IntegerField(label=_("Number of tables"), min_value=1, max_value=1000, initial=20)


class RegistrationForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("Representing"), coerce=int, required=False, empty_value=None)
    available_slots = forms.TypedMultipleChoiceField(label=_("Slots you can attend"), coerce=int,
                                                     widget=forms.CheckboxSelectMultiple)
