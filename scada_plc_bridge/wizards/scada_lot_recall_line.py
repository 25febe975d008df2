from odoo import fields, models


class ScadaLotRecallLine(models.TransientModel):
    """One MO that used the recalled lot, one finished lot it made and one
    delivery of that lot to a customer."""

    _name = "scada.lot.recall.line"
    _description = "Batch, finished lot and delivery of a recalled lot"
    _order = "id"

    recall_id = fields.Many2one("scada.lot.recall", required=True, ondelete="cascade", index=True)
    history_id = fields.Many2one("mo.history", string="Batch", readonly=True)
    batch_no = fields.Integer(related="history_id.batch_no", string="Batch No.")
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    date_finished = fields.Datetime(string="Done On", readonly=True)
    location_id = fields.Many2one("stock.location", string="Taken From", readonly=True)
    quantity_used = fields.Float(string="Used", digits="Product Unit of Measure", readonly=True)
    uom_used_id = fields.Many2one("uom.uom", string="Unit Used", readonly=True)
    finished_lot_id = fields.Many2one("stock.production.lot", readonly=True)
    finished_product_id = fields.Many2one(related="finished_lot_id.product_id", string="Finished Product")
    quantity_made = fields.Float(string="Made", digits="Product Unit of Measure", readonly=True)
    uom_made_id = fields.Many2one("uom.uom", string="Unit Made", readonly=True)
    picking_id = fields.Many2one("stock.picking", string="Delivery", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    quantity_delivered = fields.Float(string="Delivered", digits="Product Unit of Measure", readonly=True)
    date_delivered = fields.Datetime(string="Delivered On", readonly=True)
