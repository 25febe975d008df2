"""Lots through the line: what a batch consumed of a lot-tracked product
is taken lot by lot, oldest in the silo first (what a silo physically
gives first), and its finished goods get a lot of their own, so Odoo's
traceability report and the recall can answer from stock move lines.

Material no known lot covers (a silo Odoo thinks empty, a lot never
received) is booked on the location's "no lot" lot: Odoo needs a lot on
every line of a tracked product, and that lot lists what is to correct."""

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_round

FINISHED_LOT_FIELDS = ("mo", "batch", "plc")


class ScadaLotTracking(models.AbstractModel):
    _name = "scada.lot.tracking"
    _description = "SCADA lots of batches"

    @api.model
    def _lot_fill_dates(self, location, lots):
        """When each lot first entered the location (its fill), by lot id."""
        if not lots:
            return {}
        groups = self.env["stock.move.line"].read_group(
            [
                ("lot_id", "in", lots.ids),
                ("location_dest_id", "child_of", location.id),
                ("state", "=", "done"),
            ],
            ["lot_id", "date:min"],
            ["lot_id"],
        )
        return {group["lot_id"][0]: group["date"] for group in groups}

    @api.model
    def _unlotted_lot(self, product, location):
        """The location's lot for material of no known lot, made on first use."""
        # One name whatever the reader's language: the next batch books on the same lot.
        name = "NO LOT %s" % location.name
        Lot = self.env["stock.production.lot"].sudo()
        domain = [
            ("name", "=", name),
            ("product_id", "=", product.id),
            ("company_id", "=", location.company_id.id),
        ]
        return Lot.search(domain, limit=1) or Lot.create(
            {
                "name": name,
                "product_id": product.id,
                "company_id": (location.company_id or self.env.company).id,
                "scada_unlotted": True,
            }
        )

    @api.model
    def _fifo_lots(self, product, location, quantity, uom):
        """How the location gives `quantity` (in `uom`) of a lot-tracked
        product: its lots oldest fill first, the next when one runs out;
        what they do not cover from its "no lot" lot.
        Returns [(location, lot, quantity in uom)]."""
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "child_of", location.id),
                ("lot_id", "!=", False),
                ("lot_id.scada_unlotted", "=", False),
                ("quantity", ">", 0),
            ]
        )
        filled = self._lot_fill_dates(location, quants.lot_id)
        quants = quants.sorted(lambda quant: (filled.get(quant.lot_id.id) or quant.in_date, quant.id))
        parts, remaining = [], quantity
        for quant in quants:
            if float_compare(remaining, 0.0, precision_rounding=uom.rounding) <= 0:
                break
            available = product.uom_id._compute_quantity(quant.quantity, uom, round=False)
            taken = float_round(min(remaining, available), precision_rounding=uom.rounding)
            parts.append((quant.location_id, quant.lot_id, taken))
            remaining -= taken
        if float_compare(remaining, 0.0, precision_rounding=uom.rounding) > 0:
            parts.append((location, self._unlotted_lot(product, location), remaining))
        return parts

    @api.model
    def _consume(self, move, quantity, plc, location=None):
        """Add `quantity` (in the move's unit) to what a raw move consumed,
        from `location` (the move's own by default): lots FIFO for a
        lot-tracked product when the PLC keeps silo stock (before it opts
        in, nothing changes: Odoo asks for the lots)."""
        location = location or move.location_id
        by_lots = plc.silo_stock and move.product_id.tracking != "none"
        unit = move.product_id.uom_id
        if not by_lots and location == move.location_id and move.product_uom == unit:
            move.move_line_ids = move._set_quantity_done_prepare_vals(quantity)
            return
        if float_compare(quantity, 0.0, precision_rounding=move.product_uom.rounding) <= 0:
            return
        # Reserved lines would take the reservation's lots, not the silo's order.
        move._do_unreserve()
        # Lines in the product's own unit (the silo's): a BoM in tonnes would
        # round each dose to its unit's precision (10 kg), and lose or add kg.
        quantity = move.product_uom._compute_quantity(quantity, unit, round=False)
        parts = (
            self._fifo_lots(move.product_id, location, quantity, unit)
            if by_lots
            else [(location, self.env["stock.production.lot"], quantity)]
        )
        move.move_line_ids = [
            (
                0,
                0,
                dict(
                    move._prepare_move_line_vals(),
                    product_uom_id=unit.id,
                    location_id=part_location.id,
                    lot_id=lot.id,
                    qty_done=qty,
                ),
            )
            for part_location, lot, qty in parts
        ]

    @api.model
    def _scrap_parts(self, product, location, quantity, uom, plc):
        """Where a scrap of `quantity` takes from: [(lot, quantity)], lots
        FIFO when tracked and the PLC keeps silo stock."""
        if product.tracking == "none" or not plc.silo_stock:
            return [(self.env["stock.production.lot"], quantity)]
        return [(lot, qty) for _location, lot, qty in self._fifo_lots(product, location, quantity, uom)]

    @api.model
    def _finished_lot_name(self, batch, rule=None):
        rule = rule or self.env["scada.settings"]._get_text("finished_lot_name")
        return rule.format(mo=batch.mo_reference, batch=batch.batch_no, plc=batch.plc_id.code or "")

    @api.model
    def _check_finished_lot_rule(self, rule):
        """The lot name rule's fields, or a clear error."""
        try:
            rule.format(**dict.fromkeys(FINISHED_LOT_FIELDS, ""))
        except (KeyError, IndexError, ValueError) as error:
            raise UserError(_("Finished lot name: use only {mo}, {batch} and {plc} (%s).") % error) from error

    @api.model
    def _assign_finished_lot(self, batch, production):
        """A lot-tracked finished product gets a lot per batch (the name
        rule) when its PLC keeps silo stock, unless the planner set the MO's lot."""
        if (
            not batch.plc_id.silo_stock
            or production.product_id.tracking == "none"
            or production.lot_producing_id
        ):
            return production.lot_producing_id
        Lot = self.env["stock.production.lot"]
        name = self._finished_lot_name(batch)
        domain = [
            ("name", "=", name),
            ("product_id", "=", production.product_id.id),
            ("company_id", "=", production.company_id.id),
        ]
        production.lot_producing_id = Lot.search(domain, limit=1) or Lot.create(
            {"name": name, "product_id": production.product_id.id, "company_id": production.company_id.id}
        )
        return production.lot_producing_id

    @api.model
    def _check_unlotted(self, production, plc):
        """An alarm per silo when the finished MO consumed material of no
        known lot: which product, how much, and the lot it is booked on."""
        lines = production.move_raw_ids.move_line_ids.filtered(
            lambda line: line.state == "done" and line.lot_id.scada_unlotted
        )
        for location in lines.location_id:
            silo = self.env["scada.silo"].search([("location_id", "=", location.id)], limit=1)
            # Per lot: Odoo splits an over-consumed move's lines in two.
            here = {}
            for line in lines.filtered(lambda line, location=location: line.location_id == location):
                quantity = line.product_uom_id._compute_quantity(line.qty_done, line.product_id.uom_id)
                here[line.lot_id] = here.get(line.lot_id, 0.0) + quantity
            self.env["scada.alarm"]._raise(
                "lot_missing",
                plc,
                _(
                    "%(mo)s consumed material of no lot Odoo knows in %(location)s: %(lines)s. Receive or "
                    "count the lots into it, then count the no-lot lot to zero."
                )
                % {
                    "mo": production.name,
                    "location": location.display_name,
                    "lines": "; ".join(
                        _("%(quantity).2f %(uom)s of %(product)s (booked on %(lot)s)")
                        % {
                            "quantity": quantity,
                            "uom": lot.product_id.uom_id.name,
                            "product": lot.product_id.display_name,
                            "lot": lot.name,
                        }
                        for lot, quantity in here.items()
                    ),
                },
                production=production,
                silo=silo or None,
            )
