"""``sluice keys create|list|revoke``: API keys through the gateway's /v1/admin/keys."""

from __future__ import annotations

import argparse
from typing import Any

from cli.http import Gateway, path_segment
from cli.output import note, print_json, print_table

KEYS_PATH = "/v1/admin/keys"
LIST_COLUMNS = ("ID", "TENANT", "SCOPES", "SOURCE", "CREATED")


def scope_list(text: str) -> list[str]:
    """``submit,read`` as ``["submit", "read"]``; which scopes exist, the gateway decides."""
    return [scope.strip() for scope in text.split(",") if scope.strip()]


def create(args: argparse.Namespace, gateway: Gateway) -> None:
    """Create a key; only its secret goes to stdout, so ``KEY=$(sluice keys create ...)``."""
    body: dict[str, Any] = {"tenant": args.tenant}
    if args.scopes is not None:  # else the gateway's default
        body["scopes"] = args.scopes
    reply = gateway.call("POST", KEYS_PATH, body)
    if args.json:
        print_json(reply)
    else:
        print(reply["key"])
    scopes = ",".join(reply["scopes"])
    note(f"key {reply['id']} for tenant {reply['tenant']} (scopes {scopes}) created.")
    note("Store the key now: it is shown this once and cannot be shown again.")


def list_keys(args: argparse.Namespace, gateway: Gateway) -> None:
    """Every key the gateway knows, without secrets (it keeps only their hashes)."""
    reply = gateway.call("GET", KEYS_PATH)
    if args.json:
        print_json(reply)
        return
    keys: list[dict[str, Any]] = reply["keys"]
    rows = [
        (key["id"], key["tenant"], ",".join(key["scopes"]), key["source"], key["created_at"])
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
    made.set_defaults(run=create)
    listed = actions.add_parser(
        "list",
        parents=[common],
        help="list keys (never their secrets)",
        description="List every key: id, tenant, scopes, source (cli or env) and creation"
        " time. The gateway keeps only hashes of the secrets.",
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
