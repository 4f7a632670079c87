"""Test helpers for applications, storage adapters and policies built on queue_quota.

What the library's own tests use, shipped so that third-party code can pass the same
checks (DESIGN: "every storage adapter passes the same contract suite"):

* `StorageContract` — the storage contract as a test class to inherit (a fixture
  ``storage_factory`` selects the storage);
* `PolicyContract` — the rules every `QuotaPolicy` keeps (a fixture ``policy``);
* `SchedulerMachine` — a Hypothesis state machine that drives a `Scheduler` on your
  storage through random bookings, cancellations, moves, closures, clock jumps and
  reopenings, checking it against a simple model after every step;
* `strategies` — Hypothesis strategies: aware datetimes around local midnight, NIK-like
  citizen ids, weekmasks, capacity and working calendars, offices;
* `FrozenClock` — a clock for ``Scheduler(clock=...)`` that moves only when told.

This module needs the ``test`` extra (``pip install 'queue-quota[test]'``: pytest and
hypothesis). Importing it registers its modules for pytest's assertion rewriting, so a
failed contract check shows the values involved.

Example:
    ```python
    import pytest
    from queue_quota.testing import SchedulerMachine, StorageContract


    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage_factory(self, tmp_path):
            return lambda: MyStorage(tmp_path / "db")


    class MyStorageMachine(SchedulerMachine):
        def make_storage(self):
            return MyStorage(self.workdir / "db")


    TestMyStorageMachine = MyStorageMachine.TestCase
    ```
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite(
    "queue_quota.testing._policy_contract",
    "queue_quota.testing._storage_contract",
    "queue_quota.testing.stateful",
    "queue_quota.testing._machine_base",
    "queue_quota.testing._machine_booking",
    "queue_quota.testing._machine_changes",
    "queue_quota.testing._machine_expect",
)

from . import strategies  # noqa: E402
from .clock import FrozenClock  # noqa: E402
from .contract import PolicyContract, StorageContract, StorageFactory  # noqa: E402
from .stateful import SchedulerMachine  # noqa: E402

__all__ = [
    "FrozenClock",
    "PolicyContract",
    "SchedulerMachine",
    "StorageContract",
    "StorageFactory",
    "strategies",
]
