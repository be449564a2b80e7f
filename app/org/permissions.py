from app.auth.models import Role, User


def can_manage_organisation(user: User) -> bool:
    """Users, units and supervision groups are managed by admins."""
    return user.role is Role.ADMIN
