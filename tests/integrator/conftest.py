"""Tenants, keys and clients for the integrator tests (made with the real admin CLI)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.services import Stack


@dataclass(frozen=True)
class TenantKeys:
    id: str
    secret: str
    key: str
    key_id: str


def create_tenant(stack: Stack, tenant_id: str, *extra: str) -> tuple[str, str]:
    out = stack.cli("tenants", "create", f"Tenant {tenant_id}", "--id", tenant_id, *extra).stdout
    secret = re.search(r"webhook secret: (whsec_\S+)", out)
    assert secret, out
    return tenant_id, secret.group(1)


def create_key(stack: Stack, tenant_id: str, *extra: str) -> tuple[str, str]:
    proc = stack.cli("keys", "create", "--tenant", tenant_id, *extra)
    key_id = re.search(r"key id: (\S+)", proc.stderr)
    assert key_id and proc.stdout.startswith("dfs_"), proc
    return proc.stdout.strip(), key_id.group(1)


def make_tenant(
    stack: Stack, tenant_id: str, *tenant_opts: str, key_opts: tuple[str, ...] = ()
) -> TenantKeys:
    tid, secret = create_tenant(stack, tenant_id, *tenant_opts)
    key, key_id = create_key(stack, tid, *key_opts)
    return TenantKeys(tid, secret, key, key_id)


@pytest.fixture(scope="session")
def tenant_a(auth_stack: Stack) -> TenantKeys:
    return make_tenant(auth_stack, "tenant-a")


@pytest.fixture(scope="session")
def tenant_b(auth_stack: Stack) -> TenantKeys:
    return make_tenant(auth_stack, "tenant-b")


def api_client(stack: Stack, key: str | None) -> httpx.Client:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=60)


@pytest.fixture
def client_a(auth_stack: Stack, tenant_a: TenantKeys) -> Iterator[httpx.Client]:
    with api_client(auth_stack, tenant_a.key) as c:
        yield c


@pytest.fixture
def client_b(auth_stack: Stack, tenant_b: TenantKeys) -> Iterator[httpx.Client]:
    with api_client(auth_stack, tenant_b.key) as c:
        yield c
