from odoo import fields, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    scada_plc_id = fields.Many2one(
        "scada.plc",
        string="SCADA Line",
        help="PLC that runs this BoM's manufacturing orders; empty: the default PLC.",
    )
    scada_batch_capacity = fields.Float(
        string="Line Batch Capacity",
        help="The most kg of this product one batch on the line holds (in kg, whatever the BoM's unit); "
        "empty: the line's. Action > Split into line batches makes MOs of at most this.",
    )

    def _scada_plc(self, default_plc):
        """The line that runs this BoM's MOs: its PLC, else a work centre's, else the default."""
        workcenter_plcs = self.operation_ids.mapped("workcenter_id.scada_plc_id")
        return self.scada_plc_id or workcenter_plcs[:1] or default_plc
