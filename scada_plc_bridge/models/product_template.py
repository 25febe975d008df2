"""The product's number at the scale station: a manual weighing (D9009-D9010)
names its product by it, never by an Odoo id."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

WEIGHING_CODE_HELP = (
    "The number the scale station's HMI sends for this product in a manual weighing "
    "(PLC words D9009-D9010). One product per number and company; leave it empty (0) for "
    "a product that is not weighed by hand."
)


class ProductTemplate(models.Model):
    _inherit = "product.template"

    scada_weighing_code = fields.Integer("Scale Product No.", index=True, copy=False, help=WEIGHING_CODE_HELP)

    @api.constrains("scada_weighing_code", "company_id")
    def _check_scada_weighing_code(self):
        """A weighing names its product by this number only: two products of
        one company (or one shared by all companies) may not share it."""
        for template in self.filtered("scada_weighing_code"):
            if template.scada_weighing_code < 0:
                raise ValidationError(_("A scale product number is positive or empty."))
            domain = [
                ("id", "!=", template.id),
                ("scada_weighing_code", "=", template.scada_weighing_code),
            ]
            if template.company_id:
                domain.append(("company_id", "in", [template.company_id.id, False]))
            other = self.with_context(active_test=False).sudo().search(domain, limit=1)
            if other:
                raise ValidationError(
                    _("Scale product number %(number)s is already used by %(product)s.")
                    % {"number": template.scada_weighing_code, "product": other.display_name}
                )
