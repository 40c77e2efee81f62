"""Role groups: one Django group per role, carrying that role's admin permissions.

The groups themselves are created by a data migration (0002_role_groups). Their permissions
are (re)applied after every migrate, because permissions for models added by later migrations
only exist once `post_migrate` has created them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_delete, post_save

from .roles import WRITE_MODELS_BY_ROLE, Role, group_name

CLINICAL_APPS = ("cases", "scheduling")


def sync_role_group_permissions(**kwargs: Any) -> None:
    view = Permission.objects.filter(
        content_type__app_label__in=CLINICAL_APPS, codename__startswith="view_"
    )
    for role in Role:
        group, _ = Group.objects.get_or_create(name=group_name(role))
        writable = WRITE_MODELS_BY_ROLE.get(role, set())
        write = Permission.objects.filter(
            content_type__app_label__in=CLINICAL_APPS,
            content_type__model__in=writable,
        ).exclude(codename__startswith="delete_")
        group.permissions.set([*view, *write])


def sync_user_groups(user_id: int) -> None:
    """Give a user the groups of the roles they hold in their active memberships, and admin
    access while they have any."""
    from django.contrib.auth import get_user_model

    from .models import MembershipRole

    user = get_user_model().objects.get(pk=user_id)
    roles = set(
        MembershipRole.objects.filter(
            membership__user_id=user_id, membership__is_active=True
        ).values_list("role", flat=True)
    )
    role_groups = {group_name(role) for role in Role}
    keep = [g for g in user.groups.all() if g.name not in role_groups]
    user.groups.set([*keep, *Group.objects.filter(name__in=[group_name(r) for r in roles])])
    if not user.is_superuser and user.is_staff != bool(roles):
        user.is_staff = bool(roles)
        user.save(update_fields=["is_staff"])


def _on_membership_change(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    membership = instance if hasattr(instance, "user_id") else instance.membership
    sync_user_groups(membership.user_id)


def connect_membership_signals() -> None:
    from .models import Membership, MembershipRole

    for model in (Membership, MembershipRole):
        post_save.connect(_on_membership_change, sender=model, dispatch_uid=f"groups-{model}")
        post_delete.connect(_on_membership_change, sender=model, dispatch_uid=f"groups-d-{model}")
