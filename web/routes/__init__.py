"""Page routes: sign-in/out and the monitoring dashboard."""
