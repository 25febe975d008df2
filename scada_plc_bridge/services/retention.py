"""Retention: what the bridge keeps only for a while.  Odoo's autovacuum
(daily) removes done PLC requests and acknowledged or cleared alarms older
than the `retention_days` setting (90 by default).  History (mo.history)
and equipment failures are never removed."""

import datetime
import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class ScadaRetention(models.AbstractModel):
    _name = "scada.retention"
    _description = "SCADA retention"

    @api.autovacuum
    def _gc_scada_records(self):
        days = self.env["scada.settings"]._get("retention_days")
        if days <= 0:
            return 0
        limit = fields.Datetime.now() - datetime.timedelta(days=days)
        requests = (
            self.env["scada.plc.request"]
            .sudo()
            .search(
                [
                    ("state", "=", "done"),
                    "|",
                    ("date_done", "<", limit),
                    "&",
                    ("date_done", "=", False),
                    ("create_date", "<", limit),
                ]
            )
        )
        alarms = (
            self.env["scada.alarm"]
            .sudo()
            .search(
                [
                    "|",
                    "&",
                    ("state", "=", "acknowledged"),
                    ("date_acknowledged", "<", limit),
                    "&",
                    ("state", "=", "cleared"),
                    ("date_cleared", "<", limit),
                ]
            )
        )
        removed = len(requests) + len(alarms)
        if removed:
            _logger.info(
                "[RETENTION] %d done request(s) and %d alarm(s) older than %d days removed",
                len(requests),
                len(alarms),
                days,
            )
        requests.unlink()
        alarms.unlink()
        return removed
