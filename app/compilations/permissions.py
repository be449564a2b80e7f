from app.auth.models import Role, User
from app.compilations.models import CompileJob


def can_compile(user: User) -> bool:
    """Secretaries and admins bind a period's approved reports into one volume (汇编)."""
    return user.role in (Role.SECRETARY, Role.ADMIN)


def can_see_job(user: User, job: CompileJob) -> bool:
    """A compilation is seen by whoever started it, and by admins."""
    return can_compile(user) and (job.created_by_id == user.id or user.role is Role.ADMIN)
