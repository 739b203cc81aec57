"""Server-rendered pages: login, the monitoring dashboard, incident history and evidence."""
