"""Does the time of a failed login tell whether the username exists?

Run: .venv/bin/python bench/login_timing.py [--rounds 40]
— prints the median and spread of POST /login for a wrong password of an existing user, an
unknown username, and a correct login, with the real (scrypt) password hash. The two failures
should take the same time (issue 15.4: they were ~100 ms and ~8 ms).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import flask_migrate

from app import create_app
from app.auth.models import Role, User
from app.core.config import TestConfig
from app.core.extensions import db

PASSWORD = "Qiushui-Changtian-4821"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{Path(tmp) / 'bench.db'}"

        app = create_app(Config)
        with app.app_context():
            flask_migrate.upgrade()
            user = User(username="someone", display_name="某人", role=Role.SECRETARY)
            user.set_password(PASSWORD)  # the production hash, not the tests' cheap one
            db.session.add(user)
            db.session.commit()
        client = app.test_client()
        cases = {
            "existing user, wrong password": ("someone", "wrong-password"),
            "unknown username": ("nobody-here", "wrong-password"),
            "correct password": ("someone", PASSWORD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for round_ in range(rounds + 3):
            for name, (username, password) in cases.items():  # interleaved: load hits all alike
                started = time.perf_counter()
                client.post("/login", data={"username": username, "password": password})
                if round_ >= 3:  # warm-up
                    times[name].append((time.perf_counter() - started) * 1000)
                client.post("/logout")
        for name, values in times.items():
            values.sort()
            print(
                f"{name:32} median {statistics.median(values):6.1f} ms   "
                f"p10 {values[len(values) // 10]:6.1f}   p90 {values[len(values) * 9 // 10]:6.1f}"
            )


if __name__ == "__main__":
    main()
