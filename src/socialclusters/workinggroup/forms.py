"""Forms of the working group's pages. They check shapes; the rules live in ``services``."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from socialclusters.accounts.models import User
from socialclusters.analysis.selection import Weights
from socialclusters.registry.models import Country
from socialclusters.workinggroup.models import (
    Call,
    Continuation,
    Gender,
    Lock,
    Meeting,
    MeetingFormat,
    MilestoneKind,
    MilestoneStatus,
    StakeholderType,
    Theme,
)
from socialclusters.workinggroup.services import ApplicationData, MeetingPlan, MeetingPlanFull, SelectionRules

LANGUAGE_NAMES = {"en": _("English"), "fr": _("French"), "de": _("German"), "es": _("Spanish"), "it": _("Italian"),
                  "ro": _("Romanian"), "pl": _("Polish"), "pt": _("Portuguese"), "nl": _("Dutch")}


def _set_choices(form: forms.Form, name: str, choices: Any) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class CallForm(forms.Form):
    """The secretariat's call form; lists are typed one entry per line."""

    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(label=_("Address name"), max_length=80, required=False,
                           help_text=_("Part of the call's web address; made from the title when left empty."))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))
    eligibility = forms.CharField(label=_("Eligibility"), widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateTimeField(label=_("Deadline (local time of the time zone below)"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    time_zone = forms.CharField(label=_("Time zone"), initial="Europe/Brussels", max_length=64,
                                help_text=_("An IANA name such as Europe/Brussels or Europe/Bucharest."))
    seats_min = forms.IntegerField(label=_("Fewest seats"), min_value=1, initial=15)
    seats_max = forms.IntegerField(label=_("Most seats"), min_value=1, initial=20)
    max_per_country = forms.IntegerField(label=_("Most members per country"), min_value=1, required=False,
                                         initial=2, help_text=_("Leave empty for no limit."))
    expertise_areas = forms.CharField(label=_("Expertise areas (one per line)"),
                                      widget=forms.Textarea(attrs={"rows": 6}))
    required_areas = forms.CharField(label=_("Required areas (one per line, each also an expertise area)"),
                                     widget=forms.Textarea(attrs={"rows": 3}), required=False)
    stakeholder_types = forms.MultipleChoiceField(label=_("Stakeholder types wanted"),
                                                  choices=StakeholderType.choices,
                                                  widget=forms.CheckboxSelectMultiple, required=False)
    languages = forms.CharField(label=_("Working languages (codes, comma-separated)"), initial="en", required=False)
    meetings = forms.CharField(
        label=_("Planned meetings (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("date | title | place, for example “2019-03-07 | Constitutive meeting | Brussels | "
                    "constitutive”; a span is written 2019-05-14..2019-05-15."))
    rubric = forms.CharField(label=_("Review rubric (one criterion per line: label | maximum)"),
                             widget=forms.Textarea(attrs={"rows": 3}),
                             initial="Relevant expertise | 5\nMotivation and commitment | 5\n"
                                     "Expected contribution to the group's questions | 5")
    motivation_min_length = forms.IntegerField(label=_("Shortest motivation (characters)"), min_value=0, initial=300)
    cv_max_megabytes = forms.DecimalField(label=_("Largest CV (MB)"), min_value=0.1, max_value=20, initial=2,
                                          decimal_places=1)
    retention_days = forms.IntegerField(label=_("Retention of applications not selected (days after the decision)"),
                                        min_value=0, initial=365)
    privacy_notice = forms.CharField(label=_("Privacy notice"), widget=forms.Textarea(attrs={"rows": 5}))
    published = forms.BooleanField(label=_("Published (the call page and form are public)"), required=False)

    @classmethod
    def initial_for(cls, call: Call) -> dict[str, Any]:
        meetings = "\n".join(
            f"{m.date.isoformat()}{'..' + m.end_date.isoformat() if m.end_date else ''} | {m.title} | {m.place}"
            f"{' | constitutive' if m.constitutive else ''}" for m in call.planned_meetings.all())
        return {
            "title": call.title, "slug": call.slug, "description": call.description, "eligibility": call.eligibility,
            "deadline": timezone.localtime(call.deadline, call.zone).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": call.time_zone, "seats_min": call.seats_min, "seats_max": call.seats_max,
            "max_per_country": call.max_per_country, "expertise_areas": "\n".join(call.expertise_areas),
            "required_areas": "\n".join(call.required_areas), "stakeholder_types": call.stakeholder_types,
            "languages": ", ".join(call.languages), "meetings": meetings,
            "rubric": "\n".join(f"{item['label']} | {item['max']}" for item in call.rubric),
            "motivation_min_length": call.motivation_min_length,
            "cv_max_megabytes": round(call.cv_max_bytes / 1048576, 1), "retention_days": call.retention_days,
            "privacy_notice": call.privacy_notice, "published": call.published,
        }

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("Not a time zone name such as Europe/Brussels.")) from None
        return name

    def clean_meetings(self) -> list[MeetingPlan]:
        plans = []
        for number, line in enumerate(_lines(self.cleaned_data["meetings"]), start=1):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2 or not parts[1]:
                raise forms.ValidationError(_("Line %(n)d: write “date | title | place”.") % {"n": number})
            first, _sep, last = parts[0].partition("..")
            try:
                start = datetime.date.fromisoformat(first.strip())
                end = datetime.date.fromisoformat(last.strip()) if last else None
            except ValueError:
                raise forms.ValidationError(_("Line %(n)d: dates are written YYYY-MM-DD.") % {"n": number}) from None
            plans.append(MeetingPlan(title=parts[1], date=start, end_date=end, place=parts[2] if len(parts) > 2 else "",
                                     constitutive=len(parts) > 3 and parts[3].lower() == "constitutive"))
        return plans

    def clean_rubric(self) -> list[dict[str, Any]]:
        rubric = []
        for number, line in enumerate(_lines(self.cleaned_data["rubric"]), start=1):
            label, _sep, top = line.rpartition("|")
            if not label.strip() or not top.strip().isdigit():
                raise forms.ValidationError(_("Line %(n)d: write “label | maximum”.") % {"n": number})
            rubric.append({"label": label.strip(), "max": int(top)})
        return rubric

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        zone = zoneinfo.ZoneInfo(data["time_zone"])
        deadline = data["deadline"]
        naive = timezone.make_naive(deadline) if timezone.is_aware(deadline) else deadline
        return {
            "title": data["title"], "slug": data["slug"], "description": data["description"],
            "eligibility": data["eligibility"], "deadline": timezone.make_aware(naive, zone),
            "time_zone": data["time_zone"], "seats_min": data["seats_min"], "seats_max": data["seats_max"],
            "max_per_country": data["max_per_country"], "expertise_areas": _lines(data["expertise_areas"]),
            "required_areas": _lines(data["required_areas"]), "stakeholder_types": data["stakeholder_types"],
            "languages": [c.strip().lower() for c in data["languages"].split(",") if c.strip()],
            "rubric": data["rubric"], "motivation_min_length": data["motivation_min_length"],
            "cv_max_bytes": int(data["cv_max_megabytes"] * 1048576), "retention_days": data["retention_days"],
            "privacy_notice": data["privacy_notice"], "published": data["published"],
        }


def meeting_label(meeting: Any) -> str:
    days = f"{meeting.date:%d %B %Y}" + (f" – {meeting.end_date:%d %B %Y}" if meeting.end_date else "")
    return f"{meeting.title}, {days}" + (f", {meeting.place}" if meeting.place else "")


def country_choices() -> list[tuple[str, Any]]:
    return [("", _("Choose a country")), *Country.objects.order_by("name").values_list("code", "name")]


class ApplicationForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             help_text=_("Your private edit link and the decision are sent here."))
    organisation_name = forms.CharField(label=_("Organisation"), max_length=300,
                                        widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    country = forms.ChoiceField(label=_("Country"))
    stakeholder_type = forms.ChoiceField(label=_("Stakeholder type"), choices=StakeholderType.choices,
                                         widget=forms.RadioSelect)
    expertise_areas = forms.MultipleChoiceField(label=_("Expertise areas"), widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(label=_("Working languages you can use"), widget=forms.CheckboxSelectMultiple,
                                          required=False)
    available_meetings = forms.MultipleChoiceField(label=_("Planned meetings you can attend"), required=False,
                                                   widget=forms.CheckboxSelectMultiple)
    motivation = forms.CharField(label=_("Motivation"), widget=forms.Textarea(attrs={"rows": 8}))
    cv = forms.FileField(label=_("CV (PDF, optional)"), required=False,
                         widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))
    gender = forms.ChoiceField(label=_("Gender (optional)"), required=False,
                               choices=[("", _("Prefer not to say")), *Gender.choices],
                               help_text=_("Used only to keep the group's gender balance."))
    consent = forms.BooleanField(label=_("I have read the privacy notice above and agree that my application is "
                                         "processed as it describes."))

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call
        _set_choices(self, "country", country_choices())
        _set_choices(self, "expertise_areas", [(a, a) for a in call.expertise_areas])
        if call.languages:
            _set_choices(self, "languages", [(c, LANGUAGE_NAMES.get(c, c)) for c in call.languages])
        else:
            del self.fields["languages"]
        meetings = list(call.planned_meetings.all())
        if meetings:
            _set_choices(self, "available_meetings", [(str(m.pk), meeting_label(m)) for m in meetings])
        else:
            del self.fields["available_meetings"]
        self.fields["motivation"].help_text = _("At least %(n)d characters: why you, and what you would bring.") % {
            "n": call.motivation_min_length}
        self.fields["motivation"].widget.attrs["minlength"] = str(call.motivation_min_length)
        self.fields["cv"].help_text = _("At most %(mb).1f MB.") % {"mb": call.cv_max_bytes / 1048576}

    def clean_motivation(self) -> str:
        text = self.cleaned_data["motivation"].strip()
        if len(text) < self.call.motivation_min_length:
            raise forms.ValidationError(_("Your motivation has %(n)d characters; please write at least %(min)d.")
                                        % {"n": len(text), "min": self.call.motivation_min_length})
        return text

    def application_data(self) -> ApplicationData:
        data = self.cleaned_data
        return ApplicationData(
            name=data["name"], email=data["email"], organisation_name=data["organisation_name"],
            country=data["country"], stakeholder_type=data["stakeholder_type"],
            expertise_areas=list(data["expertise_areas"]), languages=list(data.get("languages") or []),
            available_meetings=[int(pk) for pk in data.get("available_meetings") or []],
            motivation=data["motivation"], consent=data["consent"], gender=data["gender"],
        )

    @staticmethod
    def initial_for(application: Any) -> dict[str, Any]:
        return {
            "name": application.name, "email": application.email, "organisation_name": application.organisation_name,
            "country": application.country_id, "stakeholder_type": application.stakeholder_type,
            "expertise_areas": application.expertise_areas, "languages": application.languages,
            "available_meetings": [str(pk) for pk in application.available_meetings.values_list("pk", flat=True)],
            "motivation": application.motivation, "gender": application.gender, "consent": application.consent,
        }


class DashboardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    area = forms.ChoiceField(label=_("Expertise area"), required=False)
    stakeholder_type = forms.ChoiceField(label=_("Stakeholder type"), required=False,
                                         choices=[("", _("Any")), *StakeholderType.choices])
    reviewed = forms.ChoiceField(label=_("Reviewed"), required=False,
                                 choices=[("", _("Any")), ("yes", _("Scored")), ("no", _("Not scored yet"))])

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = sorted(set(call.applications.values_list("country_id", flat=True)) - {None})
        _set_choices(self, "country", [("", _("Any")), *((c, c) for c in codes)])
        _set_choices(self, "area", [("", _("Any")), *((a, a) for a in call.expertise_areas)])


class AssignReviewerForm(forms.Form):
    reviewer = forms.ModelChoiceField(label=_("Reviewer"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Note for the secretariat"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, rubric: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        for item in reversed(rubric):
            self.fields = {item["key"]: forms.IntegerField(  # type: ignore[misc]
                label=f"{item['label']} (0–{item['max']})", min_value=0, max_value=int(item["max"])),
                **self.fields}

    def scores(self) -> dict[str, int]:
        return {item["key"]: self.cleaned_data[item["key"]] for item in self.rubric}


class ConflictForm(forms.Form):
    conflict = forms.BooleanField(label=_("I have a conflict of interest with this applicant"), required=False)
    conflict_note = forms.CharField(label=_("What is the conflict?"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}))


class SelectionForm(forms.Form):
    seats_min = forms.IntegerField(label=_("Fewest seats"), min_value=1)
    seats_max = forms.IntegerField(label=_("Most seats"), min_value=1)
    max_per_country = forms.IntegerField(label=_("Most members per country"), min_value=1, required=False)
    required_areas = forms.MultipleChoiceField(label=_("Areas that need at least one member"), required=False,
                                               widget=forms.CheckboxSelectMultiple)
    require_available = forms.BooleanField(label=_("Only applicants available for the constitutive meeting"),
                                           required=False)
    weight_score = forms.FloatField(label=_("Points per point of review score (0–100)"), min_value=0, initial=1.0)
    weight_area = forms.FloatField(label=_("Points per expertise area covered"), min_value=0, initial=25.0)
    weight_type = forms.FloatField(label=_("Points per stakeholder type represented"), min_value=0, initial=20.0)
    weight_country = forms.FloatField(label=_("Points per country represented"), min_value=0, initial=10.0)
    weight_gender = forms.FloatField(label=_("Points lost per person of gender imbalance"), min_value=0, initial=10.0)

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "required_areas", [(a, a) for a in call.expertise_areas])

    @classmethod
    def initial_for(cls, rules: SelectionRules) -> dict[str, Any]:
        w = rules.weights
        return {"seats_min": rules.seats[0], "seats_max": rules.seats[1], "max_per_country": rules.max_per_country,
                "required_areas": list(rules.required_areas), "require_available": rules.require_available,
                "weight_score": w.score, "weight_area": w.area, "weight_type": w.stakeholder_type,
                "weight_country": w.country, "weight_gender": w.gender_imbalance}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("seats_min") and data.get("seats_max") and data["seats_min"] > data["seats_max"]:
            self.add_error("seats_max", _("The most seats cannot be fewer than the fewest."))
        return data

    def rules(self) -> SelectionRules:
        d = self.cleaned_data
        return SelectionRules(
            seats=(d["seats_min"], d["seats_max"]), required_areas=tuple(d["required_areas"]),
            max_per_country=d["max_per_country"], require_available=d["require_available"],
            weights=Weights(score=d["weight_score"], area=d["weight_area"], stakeholder_type=d["weight_type"],
                            country=d["weight_country"], gender_imbalance=d["weight_gender"]))


class LockForm(forms.Form):
    lock = forms.ChoiceField(label=_("Lock"), choices=Lock.choices, required=False)


class DecisionForm(forms.Form):
    run = forms.IntegerField(widget=forms.HiddenInput)
    rationale = forms.CharField(label=_("Rationale of the decision"), widget=forms.Textarea(attrs={"rows": 4}))


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 9}))


class MeetingForm(forms.Form):
    """A meeting or webinar; times are typed in the meeting's time zone."""

    title = forms.CharField(label=_("Title"), max_length=200)
    webinar = forms.BooleanField(label=_("Webinar (open to invited guests)"), required=False)
    format = forms.ChoiceField(label=_("Format"), choices=MeetingFormat.choices, widget=forms.RadioSelect,
                               initial=MeetingFormat.PHYSICAL)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    time_zone = forms.CharField(label=_("Time zone"), initial="Europe/Brussels", max_length=64)
    place = forms.CharField(label=_("Place"), required=False, max_length=300)
    online_url = forms.CharField(label=_("Online link"), required=False, max_length=200)
    agenda = forms.CharField(label=_("Agenda (one item per line)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 5}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    guests = forms.CharField(label=_("Invited guests (webinars; one email per line)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    @staticmethod
    def initial_for(meeting: Meeting) -> dict[str, Any]:
        return {"title": meeting.title, "webinar": meeting.webinar, "format": meeting.format,
                "starts_at": meeting.local_start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": meeting.local_end.strftime("%Y-%m-%dT%H:%M"), "time_zone": meeting.time_zone,
                "place": meeting.place, "online_url": meeting.online_url, "agenda": "\n".join(meeting.agenda),
                "description": meeting.description, "guests": "\n".join(meeting.guests)}

    def plan(self) -> MeetingPlanFull:
        d = self.cleaned_data

        def naive(value: datetime.datetime) -> datetime.datetime:
            return timezone.make_naive(value) if timezone.is_aware(value) else value

        return MeetingPlanFull(
            title=d["title"], starts_at=naive(d["starts_at"]), ends_at=naive(d["ends_at"]),
            time_zone=d["time_zone"].strip(), format=d["format"], place=d["place"], online_url=d["online_url"],
            agenda=tuple(_lines(d["agenda"])), description=d["description"], webinar=d["webinar"],
            guests=tuple(_lines(d["guests"])))


class AttendanceForm(forms.Form):
    present = forms.MultipleChoiceField(label=_("Present"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "present", [(str(r.user_id), r.user.get_full_name() or r.user.get_username())
                                       for r in meeting.registrations.select_related("user")])


class MinutesForm(forms.Form):
    text = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 14}))
    note = forms.CharField(label=_("What you changed (optional)"), required=False, max_length=300)


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = User.objects.filter(working_group_applications__call=call,
                                      working_group_applications__outcome="selected")
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = (  # type: ignore[type-arg]
            members | User.objects.filter(role="secretariat")).distinct().order_by("username")


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MilestoneKind.choices)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))


class MilestoneStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneStatus.choices)


class ContributionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    themes = forms.ModelMultipleChoiceField(label=_("Questions and themes it answers"), required=False,
                                            queryset=Theme.objects.none(), widget=forms.CheckboxSelectMultiple)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 16}))
    note = forms.CharField(label=_("What you changed (optional)"), required=False, max_length=300)

    def __init__(self, *args: Any, call: Call, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["themes"]).queryset = call.themes.all()  # type: ignore[type-arg]


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


class ContinuationForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Continuation.choices, widget=forms.RadioSelect)
    decided_on = forms.DateField(label=_("Decided on"), widget=forms.DateInput(attrs={"type": "date"}))
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 4}))
