"""Thin views: validate input, fetch through a selector that scopes to the caller's teams
(404 for anything else), call one service, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from osseo_mdt.api.cache import cached_read
from osseo_mdt.api.pagination import rows_pagination

from .. import selectors, services
from ..models import Appointment, MdtMeeting, Task, TaskTemplate
from . import serializers as s
from .filters import AppointmentFilter, MdtMeetingFilter, TaskFilter, TaskTemplateFilter


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="Agenda item id")


@extend_schema(tags=["tasks"])
class TaskViewSet(viewsets.GenericViewSet):
    """Tasks on the cases of your teams. Everyone in a team sees its tasks; who may act on
    one is the table in scheduling/permissions.py (README: Tasks, meetings and calendars)."""

    serializer_class = s.TaskSerializer
    queryset = Task.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter
    pagination_class = rows_pagination(selectors.TASK_ROW_FIELDS)
    _todays: dict[int, Any] | None = None

    def get_queryset(self) -> Any:
        if self.action == "list":
            return selectors.task_list_for(self.request.user)
        return selectors.tasks_for(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self._todays is None:
            # Filled per team from the tasks' own (joined) teams: no query of its own.
            self._todays = {}
        context["todays"] = self._todays
        return context

    def _respond(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=task.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _act(self, request: Request, body: type[serializers.Serializer], service: Any) -> Response:
        """An action on one task: the task (404 before 400), the request body checked by
        ``body``, the service, the task re-read."""
        task = self.get_object()
        data = _valid(body, request)
        return self._respond(service(actor=request.user, task=task, **data))

    @extend_schema(summary="List tasks (filters: mine, role, status, overdue, due dates, ...)")
    @cached_read
    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        todays = self.get_serializer_context()["todays"]
        return self.get_paginated_response([s.task_row(row, todays) for row in page or ()])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.TaskCreateSerializer, responses={201: s.TaskSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(s.TaskCreateSerializer, request)
        task = services.task_create(actor=request.user, **data)
        return self._respond(task, status.HTTP_201_CREATED)

    @extend_schema(request=s.TaskUpdateSerializer, responses=s.TaskSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.TaskUpdateSerializer, services.task_update)

    @extend_schema(request=None, responses=s.TaskSerializer, summary="Accept (take on) a task")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(services.task_accept(actor=request.user, task=self.get_object()))

    @extend_schema(request=None, responses=s.TaskSerializer, summary="Start or resume a task")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(services.task_start(actor=request.user, task=self.get_object()))

    @extend_schema(request=s.ReasonSerializer, responses=s.TaskSerializer, summary="Put on hold")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.ReasonSerializer, services.task_hold)

    @extend_schema(request=s.CompleteSerializer, responses=s.TaskSerializer, summary="Complete")
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.CompleteSerializer, services.task_complete)

    @extend_schema(request=s.ReasonSerializer, responses=s.TaskSerializer, summary="Cancel")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.ReasonSerializer, services.task_cancel)

    @extend_schema(
        request=s.TaskAssignSerializer,
        responses=s.TaskSerializer,
        summary="Assign to a person holding the task's role, or back to the pool",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.TaskAssignSerializer, services.task_assign)

    @extend_schema(
        request=s.TaskBookSerializer,
        responses=s.TaskSerializer,
        summary="Book into an appointment of the case (or unbook)",
    )
    @action(detail=True, methods=["post"])
    def book(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, s.TaskBookSerializer, services.task_book)

    @extend_schema(
        request=s.BulkReassignSerializer,
        responses=s.BulkReassignResultSerializer,
        summary="Hand over a person's open tasks in a team (coordinators)",
    )
    @action(detail=False, methods=["post"], url_path="bulk-reassign")
    def bulk_reassign(self, request: Request) -> Response:
        data = _valid(s.BulkReassignSerializer, request)
        count = services.tasks_bulk_reassign(
            actor=request.user,
            team=data["team"],
            from_user=data["from_user"],
            to_user=data["to_user"],
            role=data.get("role"),
            task_ids=data.get("tasks"),
        )
        return Response({"reassigned": count})


# Lists and reads through the view's scoped selector; writes go through a service and answer
# with the record read back the same way. (A comment, not a docstring: the schema would take
# it as every subclass's description.)
class _RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]

    def _respond(self, record: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=code)


@extend_schema(tags=["task templates"])
class TaskTemplateViewSet(_RecordViewSet):
    """The rules that generate tasks. Shared templates (team null) are read-only here."""

    serializer_class = s.TaskTemplateSerializer
    queryset = TaskTemplate.objects.none()
    filterset_class = TaskTemplateFilter

    def get_queryset(self) -> Any:
        return selectors.templates_for(self.request.user)

    @extend_schema(responses={201: s.TaskTemplateSerializer})
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.task_template_save(
            actor=request.user, template=TaskTemplate(**serializer.validated_data)
        )
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        template = self.get_object()
        serializer = self.get_serializer(template, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "team" in data and data["team"].pk != template.team_id:
            raise serializers.ValidationError({"team": ["A template cannot move to another team."]})
        for name, value in data.items():
            setattr(template, name, value)
        template = services.task_template_save(actor=request.user, template=template)
        return Response(self.get_serializer(template).data)


@extend_schema(tags=["mdt meetings"])
class MdtMeetingViewSet(_RecordViewSet):
    """MDT meetings of your teams, with their agenda, minutes, decisions and actions."""

    serializer_class = s.MdtMeetingSerializer
    queryset = MdtMeeting.objects.none()
    filterset_class = MdtMeetingFilter

    def get_queryset(self) -> Any:
        return selectors.meetings_for(self.request.user)

    @extend_schema(request=s.MdtMeetingWriteSerializer, responses={201: s.MdtMeetingSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(s.MdtMeetingWriteSerializer, request)
        meeting = services.mdt_meeting_create(actor=request.user, **data)
        return self._respond(meeting, status.HTTP_201_CREATED)

    @extend_schema(request=s.MdtMeetingUpdateSerializer, responses=s.MdtMeetingSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()  # 404 before 400
        data = _valid(s.MdtMeetingUpdateSerializer, request)
        meeting = services.mdt_meeting_update(actor=request.user, meeting=meeting, **data)
        return self._respond(meeting)

    @extend_schema(
        request=s.AgendaItemCreateSerializer,
        responses={201: s.MdtMeetingSerializer},
        summary="Put a case in MDT review on the agenda",
    )
    @action(detail=True, methods=["post"], url_path="agenda-items")
    def agenda_items(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()  # 404 before 400
        data = _valid(s.AgendaItemCreateSerializer, request)
        services.mdt_agenda_add(actor=request.user, meeting=meeting, **data)
        return self._respond(meeting, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        parameters=[ITEM_ID],
        request=s.AgendaItemUpdateSerializer,
        responses=s.MdtMeetingSerializer,
        summary="Change an agenda item: question, minutes, presenter, position",
    )
    @extend_schema(
        methods=["DELETE"],
        parameters=[ITEM_ID],
        request=None,
        responses={204: None},
        summary="Take a case off the agenda (not once it has a decision or actions)",
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"agenda-items/(?P<item_id>[0-9]+)")
    def agenda_item(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        meeting = self.get_object()
        item = selectors.agenda_item_for(request.user, meeting, int(item_id))
        if request.method == "DELETE":
            services.mdt_agenda_remove(actor=request.user, item=item)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _valid(s.AgendaItemUpdateSerializer, request)
        services.mdt_agenda_update(actor=request.user, item=item, **data)
        return self._respond(meeting)

    @extend_schema(
        parameters=[ITEM_ID],
        request=s.MeetingDecisionSerializer,
        responses={201: s.MdtMeetingSerializer},
        summary="Record the MDT decision on an agenda case (moves no stage by itself)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"agenda-items/(?P<item_id>[0-9]+)/decision",
    )
    def decision(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        meeting = self.get_object()
        item = selectors.agenda_item_for(request.user, meeting, int(item_id))
        data = _valid(s.MeetingDecisionSerializer, request)
        services.mdt_decision_record_from_meeting(actor=request.user, item=item, **data)
        return self._respond(meeting, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ITEM_ID],
        request=s.MeetingActionSerializer,
        responses={201: s.TaskSerializer},
        summary="Create an action from the meeting: a task on the case with an owner",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"agenda-items/(?P<item_id>[0-9]+)/actions",
    )
    def actions(self, request: Request, pk: str | None = None, item_id: str = "") -> Response:
        meeting = self.get_object()
        item = selectors.agenda_item_for(request.user, meeting, int(item_id))
        data = _valid(s.MeetingActionSerializer, request)
        task = services.mdt_action_create(actor=request.user, item=item, **data)
        fresh = selectors.tasks_for(request.user).get(pk=task.pk)
        return Response(
            s.TaskSerializer(fresh, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["appointments"])
class AppointmentViewSet(_RecordViewSet):
    serializer_class = s.AppointmentSerializer
    queryset = Appointment.objects.none()
    filterset_class = AppointmentFilter

    def get_queryset(self) -> Any:
        return selectors.appointments_for(self.request.user)

    @extend_schema(request=s.AppointmentCreateSerializer, responses={201: s.AppointmentSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(s.AppointmentCreateSerializer, request)
        appointment = services.appointment_book(actor=request.user, **data)
        return self._respond(appointment, status.HTTP_201_CREATED)

    @extend_schema(request=s.AppointmentUpdateSerializer, responses=s.AppointmentSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()  # 404 before 400
        data = _valid(s.AppointmentUpdateSerializer, request)
        appointment = services.appointment_update(
            actor=request.user, appointment=appointment, **data
        )
        return self._respond(appointment)

    @extend_schema(
        request=s.AppointmentStatusSerializer,
        responses=s.AppointmentSerializer,
        summary="Mark attended (fulfilled), did not attend (noshow) or cancelled",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()  # 404 before 400
        data = _valid(s.AppointmentStatusSerializer, request)
        appointment = services.appointment_set_status(
            actor=request.user, appointment=appointment, **data
        )
        return self._respond(appointment)


def calendar_url(token: str) -> str:
    return settings.SITE_URL + reverse("calendar-feed", args=[token])


class _OneObjectSchema(AutoSchema):
    """The calendar feed is one object per person, not a list."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


@extend_schema(tags=["calendar"])
class CalendarFeedViewSet(viewsets.ViewSet):
    """Your secret calendar address (RFC 5545): open tasks on their due dates, your
    appointments and your teams' MDT meetings. Subscribe to it in Outlook, Google or Apple
    Calendar."""

    schema = _OneObjectSchema()

    serializer_class = s.CalendarFeedSerializer

    def _state(self, request: Request, url: str | None = None) -> dict[str, Any]:
        feed = selectors.active_calendar_feed(request.user)
        return {
            "active": feed is not None,
            "created_at": feed.created_at if feed else None,
            "last_used_at": feed.last_used_at if feed else None,
            "url": url,
        }

    @extend_schema(
        responses=s.CalendarFeedSerializer,
        summary="Whether you have an address",
        filters=False,
    )
    def list(self, request: Request) -> Response:
        return Response(self._state(request))

    @extend_schema(
        request=None,
        responses={201: s.CalendarFeedSerializer},
        summary="Issue a new address (the old one stops working); shown only now",
    )
    def create(self, request: Request) -> Response:
        issued = services.calendar_feed_issue(user=request.user)
        return Response(
            self._state(request, calendar_url(issued.token)), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(s.CalendarFeedSerializer)},
        summary="Revoke your address",
    )
    @action(detail=False, methods=["post"])
    def revoke(self, request: Request) -> Response:
        services.calendar_feed_revoke(user=request.user)
        return Response(self._state(request))
