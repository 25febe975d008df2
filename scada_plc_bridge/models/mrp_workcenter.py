from odoo import fields, models


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    scada_plc_id = fields.Many2one(
        "scada.plc", string="SCADA Line", help="PLC of the line this work centre is."
    )


class MrpWorkcenterProductivity(models.Model):
    """The time logs the bridge writes for a PLC line (scada.line.performance):
    each knows what it was written for, so it is written once."""

    _inherit = "mrp.workcenter.productivity"

    scada_history_id = fields.Many2one(
        "mo.history", string="SCADA Batch", readonly=True, index=True, ondelete="set null"
    )
    scada_failure_id = fields.Many2one(
        "scada.equipment.failure", string="Equipment Failure", readonly=True, index=True, ondelete="set null"
    )
    scada_plc_id = fields.Many2one(
        "scada.plc",
        string="SCADA Line",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The line whose PLC did not answer (an outage).",
    )

    def init(self):
        # The dashboard and the day report read a work centre's logs over a window of time.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mrp_workcenter_productivity_workcenter_id_date_start_index"
            " ON mrp_workcenter_productivity (workcenter_id, date_start)"
        )
