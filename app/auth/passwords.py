"""What a password must be (ASVS 2.1): long enough, not one people pick first (ASVS 2.1.7; the
list in common-passwords.txt includes the usual Chinese choices: pinyin, 520/1314, keyboard
runs), not the username."""

import itertools
from pathlib import Path

from app.core.exceptions import RuleViolation

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

COMMON_PASSWORDS = frozenset(
    Path(__file__).with_name("common-passwords.txt").read_text(encoding="utf-8").split()
)


def is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return True
    # One character repeated, or a run of consecutive digits/letters.
    if len(set(lowered)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(lowered)}
    return steps <= {1} or steps <= {-1}


def check_password_strength(password: str, *, username: str = "") -> None:
    """At least 8 characters, not a common password, not the username."""
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise RuleViolation(f"密码至少需要{PASSWORD_MIN_LENGTH}位。")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise RuleViolation(f"密码不能超过{PASSWORD_MAX_LENGTH}位。")
    if is_common(password) or (username and username.lower() in password.lower()):
        raise RuleViolation("密码太容易被猜到（常见密码或包含用户名），请换一个。")
