from __future__ import annotations

from django.urls import path

from . import api, tracker_views, views

app_name = "leads"

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/new/", views.new_task, name="new_task"),
    path("tasks/team/", views.team_tasks, name="team_tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/touch/", views.task_touch, name="task_touch"),
    path("tasks/<int:pk>/disqualify/", views.task_disqualify, name="task_disqualify"),
    path("tasks/<int:pk>/convert/", views.task_convert, name="task_convert"),
    path("tasks/<int:pk>/undo-assignment/", views.task_undo_assignment, name="task_undo"),
    path("tasks/<int:pk>/nurture/", views.task_nurture, name="task_nurture"),
    path("tracker/", tracker_views.tracker, name="tracker"),
    path("tracker/members/add/", tracker_views.member_add, name="member_add"),
    path("tracker/members/prefill/", tracker_views.member_prefill, name="member_prefill"),
    path("tracker/members/<int:pk>/", tracker_views.member_update, name="member_update"),
    path("tracker/members/<int:pk>/edit/", tracker_views.member_edit, name="member_edit"),
    path("tracker/members/<int:pk>/preview/", tracker_views.member_preview, name="member_preview"),
    path("tracker/time-off/", tracker_views.time_off_add, name="time_off_add"),
    path("tracker/queue/<int:pk>/assign/", tracker_views.queue_assign, name="queue_assign"),
    path("api/intake/tasks", api.intake_tasks, name="api_intake_tasks"),
]
