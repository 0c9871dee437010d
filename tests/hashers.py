"""Password hashing for the tests: the production algorithm at its smallest cost."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, as in production (``algorithm`` stays ``argon2``), with the least work the
    algorithm allows: the suite makes and checks passwords by the hundred, and the production
    cost (100 MiB, two passes) is ~0.3 s of CPU each. Each hash carries its own parameters, so
    checking follows them."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1
