"""Pages of surveys, evidence and typology, mounted under /surveys/."""

from django.urls import path

from socialclusters.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.home, name="home"),
    path("bank/", views.bank, name="bank"),
    path("questionnaires/new/", views.questionnaire_build, name="questionnaire_build"),
    path("questionnaires/<int:pk>/survey/", views.survey_create, name="survey_create"),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
    path("versions/<int:pk>/correct/", views.version_correct, name="version_correct"),
    path("<int:pk>/", views.survey_detail, name="survey_detail"),
    path("<int:pk>/invite/", views.survey_invite, name="survey_invite"),
    path("<int:pk>/close/", views.survey_close, name="survey_close"),
    path("<int:pk>/import/", views.survey_import, name="survey_import"),
    path("<int:pk>/analysis/", views.survey_analysis, name="survey_analysis"),
    path("<int:pk>/analysis.csv", views.survey_analysis_csv, name="survey_analysis_csv"),
    path("<int:pk>/charts/<slug:code>.<str:fmt>", views.survey_chart, name="survey_chart"),
    path("<int:pk>/coding/", views.survey_coding, name="survey_coding"),
    path("<int:pk>/findings/", views.survey_findings, name="survey_findings"),
    path("responses/<int:pk>/accept/", views.response_accept, name="response_accept"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("answer/<str:token>/", views.answer, name="answer"),
    path("typology/", views.typology, name="typology"),
    path("typology.csv", views.typology_csv, name="typology_csv"),
    path("typology/clusters/<int:pk>/override/", views.typology_override, name="typology_override"),
]
