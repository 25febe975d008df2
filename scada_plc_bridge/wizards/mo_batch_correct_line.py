from odoo import fields, models

from ..const import KG_DIGITS


class MoBatchCorrectLine(models.TransientModel):
    """One silo's figure in a correction: as planned, as the PLC reported, as corrected."""

    _name = "mo.batch.correct.line"
    _description = "Corrected figure of a silo"

    wizard_id = fields.Many2one("mo.batch.correct", required=True, ondelete="cascade")
    tag = fields.Char(required=True, readonly=True)
    name = fields.Char(string="Silo", readonly=True)
    planned = fields.Float(string="Planned (kg)", digits=KG_DIGITS, readonly=True)
    reported = fields.Float(string="Reported by the PLC (kg)", digits=KG_DIGITS, readonly=True)
    corrected = fields.Float(string="Corrected (kg)", digits=KG_DIGITS)
