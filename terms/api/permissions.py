"""API permissions beyond DRF's model permissions."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


class CanSeeDrafts(BasePermission):
    """Audit data (history, pending changes) is for users who may see drafts."""

    message = "Seeing history and pending changes needs the terms.view_term permission."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("terms.view_term"))


class ModelPermissionsToRead(DjangoModelPermissions):
    """The view's model permissions exactly as the admin checks them: reading
    needs ``view_<model>`` too (DRF's own class lets any signed-in user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
