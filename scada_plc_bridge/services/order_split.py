"""Split a large order into MOs the line can run: at most one batch's
capacity each (the BoM's Line Batch Capacity, else its line's), all
confirmed, planned one after another and grouped by one origin, so Task 1
(confirmed MOs by `date_planned_start, id`) queues them in order and the
board and the reports show them as one order.

Everything is checked before anything is written: bad input raises a
`UserError` and creates nothing."""

import datetime
import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

# A typo in the capacity (0.01 kg) must not make a million MOs.
MAX_PARTS = 500
# Parts of one order are planned this far apart, in order.
PLANNED_STEP = datetime.timedelta(minutes=1)


class ScadaOrderSplit(models.AbstractModel):
    _name = "scada.order.split"
    _description = "SCADA: split a large order into batches"

    @api.model
    def _default_capacity(self, bom):
        """kg per batch: the BoM's own, else its line's (0: not set)."""
        if not bom:
            return 0.0
        plc = bom[:1]._scada_plc(self.env["scada.settings"]._default_plc())
        return bom[:1].scada_batch_capacity or plc.batch_capacity_kg or 0.0

    @api.model
    def _rounding(self, uom):
        """The smallest step of a quantity an MO keeps in `uom`."""
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        return max(uom.rounding, 10**-digits)

    @api.model
    def _plan(self, quantity, uom, capacity_kg, mode):
        """The parts' quantities in `uom`, in order: each at most the
        capacity, their sum exactly `quantity` (in the UoM's rounding);
        "remainder": full batches then the rest, "equal": all alike (the
        first ones one step larger where it does not divide)."""
        kg = self.env.ref("uom.product_uom_kgm")
        if not uom or uom.category_id != kg.category_id:
            raise UserError(
                _("The line doses kg: the order is counted in %s, not in a unit of weight.")
                % (uom.display_name or _("no unit"))
            )
        if capacity_kg <= 0:
            raise UserError(_("Set the batch capacity (kg per batch) of the BoM or of its line: it is 0."))
        if quantity <= 0:
            raise UserError(_("The quantity to split must be more than 0."))
        step = self._rounding(uom)
        total = int(round(float_round(quantity, precision_rounding=step) / step))
        capacity = int(math.floor(kg._compute_quantity(capacity_kg, uom, round=False) / step + 1e-6))
        if total <= 0:
            raise UserError(_("The quantity to split must be more than 0."))
        if capacity <= 0:
            raise UserError(_("The batch capacity is smaller than the smallest quantity of an MO."))
        count = -(-total // capacity)
        if count > MAX_PARTS:
            raise UserError(
                _("This would make %(count)d MOs; at most %(max)d at once. Check the capacity.")
                % {"count": count, "max": MAX_PARTS}
            )
        if mode == "equal":
            base, extra = divmod(total, count)
            parts = [base + 1] * extra + [base] * (count - extra)
        else:
            parts = [capacity] * (total // capacity) + ([total % capacity] if total % capacity else [])
        return [float_round(part * step, precision_rounding=step) for part in parts]

    @api.model
    def _preview(self, quantity, uom, capacity_kg, mode):
        """What the split makes, as the wizard shows it ("10 MOs of 1,000.00 kg")."""
        try:
            parts = self._plan(quantity, uom, capacity_kg, mode)
        except UserError as error:
            return error.args[0] if error.args else str(error)
        groups = []
        for part in parts:
            if groups and groups[-1][1] == part:
                groups[-1][0] += 1
            else:
                groups.append([1, part])
        digits = max(0, -int(math.floor(math.log10(self._rounding(uom)) + 1e-9)))
        return " + ".join(
            _("%(count)d MO(s) of %(quantity)s %(uom)s")
            % {"count": count, "quantity": "{:,.{}f}".format(part, digits), "uom": uom.name}
            for count, part in groups
        )

    @api.model
    def _split(self, quantity, capacity_kg, mode, production=None, bom=None, product=None):
        """Split `production` (it becomes the first part) or make a new order
        of `bom` (and its `product`); returns the confirmed MOs, in order."""
        productions = self.env["mrp.production"]
        if production:
            self._check_production(production)
            bom, product, uom = production.bom_id, production.product_id, production.product_uom_id
        else:
            bom = bom[:1] if bom else bom
            if not bom:
                raise UserError(_("Choose the bill of materials of the order to split."))
            product = product or bom.product_id or bom.product_tmpl_id.product_variant_ids[:1]
            uom = bom.product_uom_id
        self._check_bom(bom, product)
        parts = self._plan(quantity, uom, capacity_kg, mode)

        start = production.date_planned_start if production else fields.Datetime.now()
        if production:
            origin = _("SPLIT/%s") % production.name
            if production.origin:
                origin = "%s (%s)" % (origin, production.origin)
            if production.state == "draft":
                production.action_confirm()
            if production.product_qty != parts[0]:
                self.env["change.production.qty"].create(
                    {"mo_id": production.id, "product_qty": parts[0]}
                ).change_prod_qty()
            production.write({"origin": origin})
            productions = production
            template = production
        else:
            origin = False
            template = self.env["mrp.production"]
        for index, part in enumerate(parts[len(productions) :], start=len(productions)):
            created = self._new_production(template, bom, product, uom, part, start + PLANNED_STEP * index)
            if not origin:
                origin = _("SPLIT/%s") % created.name
            created.origin = origin
            productions |= created
        productions.filtered(lambda mo: mo.state == "draft").action_confirm()
        return productions

    @api.model
    def _new_production(self, template, bom, product, uom, quantity, planned):
        """One more part: a new MO like `template` (the MO split), with its
        moves from the BoM for `quantity`."""
        values = {
            "product_id": product.id,
            "product_uom_id": uom.id,
            "product_qty": quantity,
            "bom_id": bom.id,
            "company_id": (template.company_id or bom.company_id or self.env.company).id,
            "date_planned_start": planned,
        }
        if template:
            values.update(
                {
                    "picking_type_id": template.picking_type_id.id,
                    "location_src_id": template.location_src_id.id,
                    "location_dest_id": template.location_dest_id.id,
                    "user_id": template.user_id.id,
                    "date_deadline": template.date_deadline,
                }
            )
        elif bom.picking_type_id:
            values["picking_type_id"] = bom.picking_type_id.id
        # Odoo's import path makes the moves from the BoM, and the work orders
        # of its operations (the ideal cycle of the line's OEE), as the form's onchanges would.
        production = self.env["mrp.production"].with_context(import_file=True).create(values)
        production._create_workorder()
        return production

    @api.model
    def _check_production(self, production):
        production.ensure_one()
        if production.state not in ("draft", "confirmed"):
            raise UserError(
                _("%(mo)s is %(state)s: only a draft or confirmed MO not yet on the line can be split.")
                % {
                    "mo": production.name,
                    "state": dict(production._fields["state"]._description_selection(self.env)).get(
                        production.state, production.state
                    ),
                }
            )
        # The line's records, whoever splits (an MRP user may not read batches).
        if production.sudo().scada_batch_ids or production.sudo().scada_history_ids:
            raise UserError(
                _("%s is queued for or was run on the line already: it cannot be split.") % production.name
            )

    @api.model
    def _check_bom(self, bom, product):
        if not bom:
            raise UserError(_("The order has no bill of materials: the line has no recipe to run."))
        if not bom.bom_line_ids.scada_silo_id:
            raise UserError(
                _("%s doses nothing on the line: none of its components has a silo.") % bom.display_name
            )
        if not product:
            raise UserError(_("%s has no product to make.") % bom.display_name)
