"""API permissions beyond DRF's model permissions."""

from rest_framework.permissions import BasePermission


class CanSeeDrafts(BasePermission):
    """Audit data (history, pending changes) is for users who may see drafts."""

    message = "Seeing history and pending changes needs the terms.view_term permission."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("terms.view_term"))
