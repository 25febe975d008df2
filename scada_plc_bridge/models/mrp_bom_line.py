from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    scada_silo_id = fields.Many2one(
        "scada.silo",
        string="Silo",
        help="Silo or tank that doses this component; its PLC consumption replaces the planned quantity.",
    )

    @api.constrains("scada_silo_id", "bom_id")
    def _check_one_line_per_silo(self):
        """The PLC reports one figure per silo: two lines on one silo could not
        say how much of each product it dosed."""
        for line in self.filtered("scada_silo_id"):
            others = line.bom_id.bom_line_ids.filtered(
                lambda o, line=line: o.scada_silo_id == line.scada_silo_id
            )
            if len(others) > 1:
                raise ValidationError(
                    _("%(bom)s: %(silo)s doses %(products)s; a silo doses one line of a BoM.")
                    % {
                        "bom": line.bom_id.display_name,
                        "silo": line.scada_silo_id.display_name,
                        "products": ", ".join(others.product_id.mapped("display_name")),
                    }
                )
