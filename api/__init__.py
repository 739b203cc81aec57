"""The monitor's HTTP side: app factory, authentication, access rules and JSON routes."""
