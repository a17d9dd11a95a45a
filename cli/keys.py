"""``sluice keys create|list|revoke``: API keys through the gateway's /v1/admin/keys."""

from __future__ import annotations

import argparse
from typing import Any

from cli.arguments import per_second, whole_number
from cli.http import Gateway, path_segment
from cli.output import note, print_json, print_table

KEYS_PATH = "/v1/admin/keys"
LIST_COLUMNS = ("ID", "TENANT", "SCOPES", "QUOTAS", "SOURCE", "CREATED")
# The options of `keys create` setting a quota, by the name the gateway gives it.
QUOTA_OPTIONS = {"jobs": "max_jobs", "bytes": "max_bytes", "rate": "rate", "burst": "burst"}


def scope_list(text: str) -> list[str]:
    """``submit,read`` as ``["submit", "read"]``; which scopes exist, the gateway decides."""
    return [scope.strip() for scope in text.split(",") if scope.strip()]


def quota_text(quotas: dict[str, Any]) -> str:
    """``jobs=10,rate=5`` for the table; ``-`` when the key has the gateway's defaults."""
    given = [(name, quotas.get(name)) for name in QUOTA_OPTIONS]
    return ",".join(f"{name}={_number(value)}" for name, value in given if value is not None) or "-"


def _number(value: float) -> str:
    """``1000`` for 1000.0 (and no ``1e+06``), ``2.5`` as it is."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def create(args: argparse.Namespace, gateway: Gateway) -> None:
    """Create a key; only its secret goes to stdout, so ``KEY=$(sluice keys create ...)``."""
    body: dict[str, Any] = {"tenant": args.tenant}
    if args.scopes is not None:  # else the gateway's default
        body["scopes"] = args.scopes
    quotas = {name: getattr(args, option) for name, option in QUOTA_OPTIONS.items()}
    if any(value is not None for value in quotas.values()):  # else the gateway's defaults
        body["quotas"] = {name: value for name, value in quotas.items() if value is not None}
    reply = gateway.call("POST", KEYS_PATH, body)
    if args.json:
        print_json(reply)
    else:
        print(reply["key"])
    scopes = ",".join(reply["scopes"])
    given = quota_text(reply.get("quotas") or {})
    limits = "" if given == "-" else f", quotas {given}"
    note(f"key {reply['id']} for tenant {reply['tenant']} (scopes {scopes}{limits}) created.")
    note("Store the key now: it is shown this once and cannot be shown again.")


def list_keys(args: argparse.Namespace, gateway: Gateway) -> None:
    """Every key the gateway knows, without secrets (it keeps only their hashes)."""
    reply = gateway.call("GET", KEYS_PATH)
    if args.json:
        print_json(reply)
        return
    keys: list[dict[str, Any]] = reply["keys"]
    rows = [
        (
            key["id"],
            key["tenant"],
            ",".join(key["scopes"]),
            quota_text(key.get("quotas") or {}),
            key["source"],
            key["created_at"],
        )
        for key in keys
    ]
    print_table(LIST_COLUMNS, rows)


def revoke(args: argparse.Namespace, gateway: Gateway) -> None:
    """Revoke the key ``args.id``: the gateway refuses it from then on."""
    reply = gateway.call("DELETE", f"{KEYS_PATH}/{path_segment(args.id)}")
    if args.json:
        print_json(reply)
    else:
        print(f"revoked {reply['id']}")


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``keys`` and its three commands, each with the ``common`` options."""
    group = commands.add_parser(
        "keys",
        parents=[common],
        help="create, list and revoke API keys (needs a key with the admin scope)",
        description="API keys: a key belongs to a tenant and has scopes submit, read, admin.",
    )
    actions = group.add_subparsers(title="commands", metavar="COMMAND", required=True)
    made = actions.add_parser(
        "create",
        parents=[common],
        help="create a key and print it, once",
        description="Create a key. Only its secret goes to stdout, so that"
        " KEY=$(sluice keys create ...) captures it; it cannot be shown again.",
    )
    made.add_argument("--tenant", required=True, help="the tenant the key acts for")
    made.add_argument(
        "--scopes",
        type=scope_list,
        help="comma-separated, of submit, read, admin (default: submit,read)",
    )
    quotas = made.add_argument_group(
        "quotas", "the tenant's quotas while it uses this key (default: the gateway's settings)"
    )
    quotas.add_argument(
        "--max-jobs", type=whole_number, metavar="N", help="jobs not yet ended (QUOTA_JOBS)"
    )
    quotas.add_argument(
        "--max-bytes",
        type=whole_number,
        metavar="N",
        help="bytes stored: uploads, results, artifacts (QUOTA_BYTES)",
    )
    quotas.add_argument(
        "--rate", type=per_second, metavar="R", help="jobs submitted per second (QUOTA_RATE)"
    )
    quotas.add_argument(
        "--burst",
        type=whole_number,
        metavar="N",
        help="jobs submitted at once, above the rate (QUOTA_BURST)",
    )
    made.set_defaults(run=create)
    listed = actions.add_parser(
        "list",
        parents=[common],
        help="list keys (never their secrets)",
        description="List every key: id, tenant, scopes, quotas (those it sets; - for the"
        " gateway's defaults), source (cli or env) and creation time. The gateway keeps only"
        " hashes of the secrets.",
    )
    listed.set_defaults(run=list_keys)
    revoked = actions.add_parser(
        "revoke",
        parents=[common],
        help="revoke a key by its id",
        description="Revoke a key: the gateway refuses it (401) from then on.",
    )
    revoked.add_argument("id", help="the key's id, as `sluice keys list` shows it")
    revoked.set_defaults(run=revoke)
