from rest_framework.routers import BaseRouter

from .views import (
    AppointmentViewSet,
    CalendarFeedViewSet,
    MdtMeetingViewSet,
    TaskTemplateViewSet,
    TaskViewSet,
)
from .webhooks import WebhookDeliveryViewSet, WebhookSubscriptionViewSet


def register(router: BaseRouter) -> None:
    """Register the scheduling viewsets on the /api/v1/ router."""
    router.register("tasks", TaskViewSet, basename="task")
    router.register("task-templates", TaskTemplateViewSet, basename="task-template")
    router.register("mdt-meetings", MdtMeetingViewSet, basename="mdt-meeting")
    router.register("appointments", AppointmentViewSet, basename="appointment")
    router.register("calendar-feed", CalendarFeedViewSet, basename="calendar-feed-api")
    router.register(
        "webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription"
    )
    router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
