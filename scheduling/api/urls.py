from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Register the scheduling viewsets on the /api/v1/ router."""
