"""Silos as stock (opt-in per PLC): each silo and tank an internal stock
location, the dose of each silo taken from its own location when Task 3
finishes (or scraps) a batch, and the alarms a silo's stock calls for.

A PLC without silo stock, or a silo without a location, keeps what the
bridge always did: the dose leaves the MO's source location."""

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


class ScadaSiloStock(models.AbstractModel):
    _name = "scada.silo.stock"
    _description = "SCADA silos as stock locations"

    @api.model
    def _line_location(self, plc):
        """Where a line's silos live: under the stock location of the PLC's company's warehouse."""
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", plc.company_id.id)], limit=1)
        if not warehouse:
            raise UserError(_("Company %s has no warehouse to put the silos in.") % plc.company_id.name)
        return warehouse.lot_stock_id

    @api.model
    def _create_locations(self, silos):
        """An internal location for each silo that has none, under its line's stock location."""
        for silo in silos.filtered(lambda s: not s.location_id):
            parent = self._line_location(silo.plc_id)
            silo.location_id = self.env["stock.location"].create(
                {
                    "name": "%s %s" % (silo.plc_id.code, silo.name),
                    "location_id": parent.id,
                    "usage": "internal",
                    "company_id": silo.plc_id.company_id.id,
                }
            )
        return True

    @api.model
    def _dosing_location(self, production, silo):
        """Where a silo's dose is taken from: its location when its PLC keeps silo stock."""
        if silo and silo.plc_id.silo_stock and silo.location_id:
            return silo.location_id
        return production.location_src_id

    @api.model
    def _take_from_silos(self, production):
        """The MO's raw moves of silos with stock take from their silo's
        location (before their quantities are set)."""
        for move in production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            location = self._dosing_location(production, move.bom_line_id.scada_silo_id)
            if move.location_id != location:
                move._do_unreserve()
                move.location_id = location

    @api.model
    def _on_hand(self, silo, product=None):
        """What the silo's location holds, in the product's unit (of its usual product by default)."""
        product = product or silo.product_id
        if not silo.location_id or not product:
            return 0.0
        return self.env["stock.quant"]._get_available_quantity(
            product, silo.location_id, allow_negative=True, strict=False
        )

    @api.model
    def _check_levels(self, production, plc):
        """After a batch took from its silos: an alarm for a silo that gave
        more than Odoo knew it held (its stock now negative: material Odoo
        does not know about; the batch is finished all the same), and for
        one below its low level."""
        alarms = self.env["scada.alarm"]
        kg = self.env.ref("uom.product_uom_kgm")
        low = []
        for move in production.move_raw_ids.filtered(lambda m: m.state == "done"):
            silo = move.bom_line_id.scada_silo_id
            if not silo or move.location_id != silo.location_id:
                continue
            on_hand = self._on_hand(silo, move.product_id)
            values = {
                "silo": silo.name,
                "product": move.product_id.display_name,
                "mo": production.name,
                "quantity": on_hand,
                "uom": move.product_id.uom_id.name,
            }
            if float_compare(on_hand, 0.0, precision_rounding=move.product_id.uom_id.rounding) < 0:
                alarms._raise(
                    "silo_negative",
                    plc,
                    _(
                        "%(silo)s gave more %(product)s to %(mo)s than Odoo knew it held: its stock is now "
                        "%(quantity).2f %(uom)s. Count the silo to close the gap."
                    )
                    % values,
                    production=production,
                )
            elif silo.low_level_kg and (
                move.product_id.uom_id._compute_quantity(on_hand, kg, raise_if_failure=False)
                < silo.low_level_kg
            ):
                low.append(_("%(silo)s: %(quantity).2f %(uom)s of %(product)s") % values)
        if low:
            alarms._raise(
                "silo_low",
                plc,
                _("Below their low level after %(mo)s: %(silos)s.")
                % {"mo": production.name, "silos": "; ".join(low)},
            )
