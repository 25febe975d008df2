from odoo import fields, models

from ..const import KG_DIGITS, SILOS


def silo_float_fields(prefix, string, help_text, **options):
    """One kg Float per material point, named prefix + tag."""
    return {
        prefix + tag: fields.Float(string=string % label, digits=KG_DIGITS, help=help_text % label, **options)
        for tag, _silo_id, label in SILOS
    }


class ScadaBatchData(models.AbstractModel):
    """What a batch is, shared by the queue (mo.batch) and its archive
    (mo.history), so both hold exactly the same data."""

    _name = "scada.batch.data"
    _description = "SCADA batch data"

    batch_no = fields.Integer(
        string="Batch No.", readonly=True, index=True, help="Batch number sent to the PLC."
    )
    mo_id = fields.Char(string="MO", readonly=True, index=True, help="Manufacturing order reference.")
    plc_ref = fields.Char(
        string="PLC Reference",
        readonly=True,
        index=True,
        help="The MO reference as written to the PLC's NO-MO field (16 ASCII characters at most).",
    )
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True, index=True)
    plc_id = fields.Many2one("scada.plc", string="PLC", readonly=True, index=True)
    equipment = fields.Char(readonly=True, help="Code of the PLC (line) that ran the batch.")
    slot = fields.Integer(readonly=True, help="PLC slot (1-10) the recipe was written to.")
    finished_goods = fields.Char(readonly=True)
    consumption = fields.Float(
        string="Planned Quantity (kg)",
        digits=KG_DIGITS,
        readonly=True,
        help="Quantity of finished goods planned.",
    )
    locals().update(
        silo_float_fields("consumption_", "Planned %s (kg)", "Planned consumption of %s, from the BoM.")
    )
    locals().update(
        silo_float_fields("actual_consumption_", "Actual %s (kg)", "Consumption of %s reported by the PLC.")
    )
    actual_weight_quantity_finished_goods = fields.Float(
        string="Actual Weight (kg)",
        digits=KG_DIGITS,
        readonly=True,
        help="Finished weight reported by the PLC.",
    )
    status_manufacturing = fields.Boolean(
        string="Finished on PLC",
        readonly=True,
        help="The PLC reports the batch finished (status_manufacturing=1).",
    )
    status_operation = fields.Boolean(
        string="PLC Failure", readonly=True, help="The PLC reports the batch failed (status_operation=1)."
    )
    status_read_data = fields.Boolean(
        string="Read Acknowledged",
        readonly=True,
        help="The PLC's result was taken and its READ slot acknowledged (status_read_data=1).",
    )
    last_read_from_plc = fields.Datetime(string="Last PLC Read", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )

    def _batch_data_values(self):
        """The shared fields of this record, ready for create()."""
        self.ensure_one()
        values = {}
        for name, field in self.env["scada.batch.data"]._fields.items():
            if field.store and name not in models.MAGIC_COLUMNS and name != "display_name":
                value = self[name]
                values[name] = value.id if field.type == "many2one" else value
        return values
