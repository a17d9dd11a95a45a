"""The HTTP gateway: a thin Starlette layer over shared.client.Sluice."""
