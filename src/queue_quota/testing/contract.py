"""Contract test suites for storage adapters and quota policies.

Inherit a suite in your own tests and provide one fixture: the suite's test methods then
run against your object, exactly as they run against the built-in ones.

* `StorageContract` needs ``storage_factory``: a callable making handles on one store.
* `PolicyContract` needs ``policy``: the `QuotaPolicy` to check.

These classes import ``pytest``: install the ``test`` extra (``pip install
'queue-quota[test]'``).
"""

from __future__ import annotations

from ._policy_contract import PolicyContract
from ._storage_contract import StorageContract, StorageFactory

__all__ = ["PolicyContract", "StorageContract", "StorageFactory"]
