import json

from odoo import fields, models


class ScadaPlcDashboard(models.Model):
    """A line's card on the supervisor's dashboard (the figures are
    scada.line.dashboard's), as account.journal keeps its kanban_dashboard."""

    _inherit = "scada.plc"

    dashboard_json = fields.Text(string="Dashboard", compute="_compute_dashboard_json")

    def _compute_dashboard_json(self):
        dashboard = self.env["scada.line.dashboard"]
        for plc in self:
            plc.dashboard_json = json.dumps(dashboard._card(plc))

    def action_open_dashboard_figure(self):
        """A figure of the card clicked: the records behind it (context: figure, period, equipment_id)."""
        self.ensure_one()
        context = self.env.context
        return self.env["scada.line.dashboard"]._open(
            self, context.get("figure"), context.get("period", "today"), context.get("equipment_id")
        )
