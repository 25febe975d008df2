from odoo import fields, models


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    scada_batch_ids = fields.One2many("mo.batch", "production_id", string="SCADA Batches")
    scada_history_ids = fields.One2many("mo.history", "production_id", string="SCADA History")

    def _scada_plc(self, default_plc):
        """The line that runs this MO: its BoM's PLC, else a work centre's, else the default."""
        self.ensure_one()
        workcenter_plcs = self.bom_id.operation_ids.mapped("workcenter_id.scada_plc_id")
        return self.bom_id.scada_plc_id or workcenter_plcs[:1] or default_plc
