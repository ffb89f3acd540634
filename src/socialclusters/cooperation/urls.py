"""Pages of cooperation and matchmaking, mounted under /cooperation/."""

from django.urls import URLPattern, path

from socialclusters.cooperation import views

app_name = "cooperation"
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("profiles/new/", views.profile_new, name="profile_new"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile_detail"),
    path("profiles/<int:pk>/edit/", views.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/interest/", views.profile_interest, name="profile_interest"),
    path("profiles/<int:pk>/review/", views.profile_review, name="profile_review"),
    path("profiles/<int:pk>/<str:action>/", views.profile_action, name="profile_action"),
    path("opportunities/new/", views.opportunity_new, name="opportunity_new"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/<str:action>/", views.opportunity_action, name="opportunity_action"),
    path("interests/<int:pk>/", views.interest_detail, name="interest_detail"),
    path("interests/<int:pk>/answer/", views.interest_answer, name="interest_answer"),
    path("inbox/", views.inbox, name="inbox"),
    path("mine/", views.mine, name="mine"),
    path("organisations/<int:pk>/opt-out/", views.opt_out, name="opt_out"),
    path("contracts/new/", views.contract_new, name="contract_new"),
    path("procurement/", views.procurement, name="procurement"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("cross-border/", views.cross_border, name="cross_border"),
    path("learning/", views.learning, name="learning"),
    path("cross-border.<str:fmt>", views.cross_border_chart, name="cross_border_chart"),
    path("events/", views.event_list, name="event_list"),
    path("events/new/", views.event_new, name="event_new"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/register/", views.event_register, name="event_register"),
    path("events/<int:pk>/request/", views.event_request, name="event_request"),
    path("events/<int:pk>/requests/<int:request_pk>/answer/", views.event_answer, name="event_answer"),
    path("events/<int:pk>/schedule/", views.event_schedule, name="event_schedule"),
    path("events/<int:pk>/schedule/builds/<int:build_pk>/", views.event_schedule_status,
         name="event_schedule_status"),
    path("events/<int:pk>/agenda/", views.event_agenda, name="event_agenda"),
    path("events/<int:pk>/agenda.ics", views.event_agenda_ics, name="event_agenda_ics"),
    path("events/<int:pk>/print/", views.event_print, name="event_print"),
    path("secretariat/review/", views.review_queue, name="review_queue"),
    path("secretariat/settings/", views.matching_settings, name="settings"),
]
