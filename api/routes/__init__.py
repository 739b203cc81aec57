"""JSON routes: /api/monitoring/* (owners and admins) and /healthz (anyone)."""
