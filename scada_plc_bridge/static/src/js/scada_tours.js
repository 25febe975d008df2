odoo.define("scada_plc_bridge.tours", function (require) {
    "use strict";

    const tour = require("web_tour.tour");

    // A shift supervisor finds a batch Odoo refused to finish, retries the
    // push once the cause is fixed, and finds it archived in History.
    tour.register("scada_retry_push_tour", {test: true, url: "/web#action=scada_plc_bridge.mo_batch_action"}, [
        {
            content: "The batch waits in the 'Failed to Push' column of the kanban",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Failed to Push')) .o_kanban_record:contains('TOUR RETRY FEED')",
        },
        {
            content: "Its card says why, in words; open it",
            trigger: ".o_kanban_record:contains('TOUR RETRY FEED') .o_scada_card_reason:contains('Odoo refused')",
        },
        {
            content: "The form tells why Odoo refused",
            trigger: ".o_form_view .alert-danger:contains('Odoo refused')",
            run: function () {},
        },
        {
            content: "Retry the push",
            trigger: ".o_form_statusbar button[name='action_retry_push']",
        },
        {
            content: "It is archived in History as completed",
            trigger: ".o_list_view .o_data_row:contains('TOUR RETRY FEED'):contains('Completed')",
        },
        {
            content: "The history record is read-only",
            trigger: ".o_form_view .o_statusbar_status .btn-primary:contains('Completed')",
            run: function () {},
        },
    ]);

    // A batch is cancelled with a reason, which becomes the history note.
    tour.register("scada_cancel_batch_tour", {test: true, url: "/web#action=scada_plc_bridge.mo_batch_action"}, [
        {
            content: "Open the running batch",
            trigger: ".o_kanban_record:contains('TOUR CANCEL FEED')",
        },
        {
            content: "Cancel it",
            trigger: ".o_form_statusbar button:contains('Cancel')",
        },
        {
            content: "Give the reason",
            trigger: "textarea[name='reason']",
            run: "text Silo C blocked by caking",
        },
        {
            content: "Confirm",
            trigger: "button[name='action_cancel']",
        },
        {
            content: "The form says the cancel is handed to the poller, with the reason",
            trigger: ".o_form_view .o_scada_cancel_waits:contains('Silo C blocked by caking')",
            run: function () {},
        },
    ]);

    // A supervisor reads the consumption per material per day: completed
    // batches only, kg summed, no percentage offered as a sum.
    tour.register("scada_consumption_pivot_tour", {test: true, url: "/web#action=scada_plc_bridge.scada_consumption_report_action"}, [
        {
            content: "Completed batches only, by default",
            trigger: ".o_searchview_facet:contains('Completed')",
            run: function () {},
        },
        {
            content: "Materials are the rows, with the kg of both completed batches",
            trigger: ".o_pivot table tr:has(th:contains('TOUR CORN')) td:contains('1,203.50')",
            run: function () {},
        },
        {
            content: "Days are the columns",
            trigger: ".o_pivot table thead th:contains('" + moment().format("YYYY") + "')",
            run: function () {},
        },
        {
            content: "The auto-cancelled batch's material is not counted",
            trigger: ".o_pivot table:not(:has(th:contains('TOUR LEFTOVER'))):has(th:contains('TOUR COPRA'))",
            run: function () {},
        },
        {
            content: "Open the measures",
            trigger: ".o_control_panel button.dropdown-toggle:contains('Measures')",
        },
        {
            content: "kg are offered; the deviation in % is not",
            trigger: ".o_pivot_measures_list:not(:has([data-field='deviation_percent'])) a[data-field='actual_kg']",
            run: function () {},
        },
    ]);

    // A finished batch with one silo 30 kg over plan: that silo is outside
    // the tolerance, the others (0.03 kg and 0.2 kg off) are within.
    tour.register("scada_deviation_colours_tour", {test: true}, [
        {
            content: "The molasses tank, 30 kg over plan, is outside the tolerance",
            trigger: ".o_scada_consumption tr.o_scada_outside[data-silo='lq114']:contains('TOUR MOLASSES'):contains('+30.00')",
            run: function () {},
        },
        {
            content: "Its deviation is red",
            trigger: ".o_scada_consumption tr[data-silo='lq114'] td.text-danger:contains('+60.0 %')",
            run: function () {},
        },
        {
            content: "The corn silo, 0.03 kg over, is within",
            trigger: ".o_scada_consumption tr.o_scada_within[data-silo='silo_d']:contains('SILO D - TOUR CORN')",
            run: function () {},
        },
        {
            content: "The copra silo is within",
            trigger: ".o_scada_consumption tr.o_scada_within[data-silo='silo_b']",
            run: function () {},
        },
        {
            content: "Silos the recipe does not use are not listed",
            trigger: ".o_scada_consumption table:not(:has(tr[data-silo='silo_a'])):not(:has(.o_scada_warning))",
            run: function () {},
        },
    ]);

    // The shift supervisor prints the day report from the PLC's form.
    tour.register("scada_day_report_tour", {test: true}, [
        {
            content: "Open the day report",
            trigger: ".o_form_statusbar button:contains('Day report')",
        },
        {
            content: "The wizard asks the PLC and the days",
            trigger: ".o_field_widget[name='date_to']",
            run: function () {},
        },
        {
            content: "Print",
            trigger: "button[name='action_print']",
        },
        {
            content: "The wizard closes once the PDF is downloaded",
            trigger: "body:not(:has(.modal)) .o_form_statusbar button:contains('Day report')",
            run: function () {},
        },
    ]);

    // The menu's alarm count follows the board: acknowledging takes it off, no page reload.
    tour.register("scada_live_menu_count_tour", {test: true, url: "/web#action=scada_plc_bridge.mo_batch_action"}, [
        {
            // Any count: the crons of the shared test server may add an alarm of their own line.
            content: "The Alarms menu shows the open alarms' count",
            trigger: ".o_menu_sections a[data-menu-xmlid='scada_plc_bridge.scada_alarm_menu'] > span:contains('Alarms (')",
            timeout: 30000, // the first page of a loaded machine
            run: function () {
                window.scadaLiveMenuTour = "no reload";
            },
        },
        {
            content: "Acknowledge all from the board's banner",
            trigger: ".o_scada_alarms .o_scada_acknowledge_all",
        },
        {
            content: "The count is gone from the menu, on the same page",
            trigger: ".o_menu_sections a[data-menu-xmlid='scada_plc_bridge.scada_alarm_menu'] > span[data-scada-name='Alarms']:not(:contains('('))",
            timeout: 30000, // re-read at most every 3 s, then over the bus
            run: function () {
                if (window.scadaLiveMenuTour !== "no reload") {
                    console.error("the page was reloaded");
                }
            },
        },
    ]);

    // The open form of a batch the line archives while the form re-reads it
    // (its chatter gone between the form's reads): no error, and its history
    // opens at the archive's own message.  The board's bus messages are sent
    // by hand: in this test the server's transaction never commits, so Odoo's
    // bus never wakes the browser.
    function boardMessage() {
        const env = odoo.__DEBUG__.services["web.env"];
        env.services.bus_service.trigger("notification", [["scada_plc_bridge.board", {type: "scada_board"}]]);
    }
    tour.register("scada_archived_while_reloading_tour", {test: true}, [
        {
            content: "The batch form is open; the line reports a change (the form re-reads)",
            trigger: ".o_form_view .o_scada_consumption:contains('TOUR CORN')",
            run: boardMessage,
        },
        {
            content: "The archive's message, after the form's re-read (the board re-reads at most every 2 s)",
            trigger: ".o_form_view",
            run: function () {
                setTimeout(boardMessage, 3000);
            },
        },
        {
            content: "Its history opens, cancelled",
            trigger: ".o_form_view .o_field_widget[name='archived_by_id']",
            timeout: 15000, // the live reload waits 2 s
            run: function () {},
        },
        {
            content: "No error was shown",
            trigger: "body:not(:has(.o_dialog_error)):not(:has(.modal))",
            run: function () {},
        },
    ]);

    // A supervisor who reads Indonesian: words and numbers as the plant speaks.
    tour.register("scada_consumption_indonesian_tour", {test: true, url: "/web#action=scada_plc_bridge.scada_consumption_report_action"}, [
        {
            content: "The report is titled in Indonesian",
            trigger: ".o_control_panel .breadcrumb:contains('Pemakaian')",
            run: function () {},
        },
        {
            content: "Completed batches only",
            trigger: ".o_searchview_facet:contains('Selesai')",
            run: function () {},
        },
        {
            content: "kg in the Indonesian format",
            trigger: ".o_pivot table tr:has(th:contains('TOUR CORN')) td:contains('1.234,50')",
            run: function () {},
        },
        {
            content: "The measure is named in Indonesian",
            trigger: ".o_pivot table thead th:contains('Aktual (kg)')",
            run: function () {},
        },
    ]);
    // The silo card: what a silo holds after a batch took its corn across a lot boundary.
    tour.register("scada_silo_card_tour", {test: true}, [
        {
            content: "Silo D's card: the first lot used up, the second one left",
            trigger: ".o_scada_silo_card:contains('Silo line'):contains('SILO D') .o_scada_silo_lots:contains('TOUR-CORN-2: 1,398.50 kg')",
            timeout: 30000,
            run: function () {
                if ($(".o_scada_silo_card .o_scada_silo_lots:contains('TOUR-CORN-1')").length) {
                    console.error("the used-up lot is still listed");
                }
            },
        },
        {
            content: "Its on-hand kg and level bar",
            trigger: ".o_scada_silo_card:contains('TOUR-CORN-2') .o_scada_silo_on_hand:contains('1,398.50')",
            run: function () {},
        },
        {
            content: "A level bar",
            trigger: ".o_scada_silo_card:contains('TOUR-CORN-2') .o_progressbar",
            run: function () {},
        },
        {
            content: "Open the silo",
            trigger: ".o_scada_silo_card:contains('TOUR-CORN-2')",
        },
        {
            content: "Its form lists the lot inside",
            trigger: ".o_form_view .o_scada_silo_lots:contains('TOUR-CORN-2')",
            run: function () {},
        },
    ]);

    // A supplier recalls a corn lot: which MOs, finished lots and customers got it.
    tour.register("scada_recall_tour", {test: true}, [
        {
            content: "Recall, on Odoo's own lot form",
            trigger: ".o_form_view button[name='action_scada_recall']",
            timeout: 30000,
        },
        {
            content: "The recall lists the MO that took 500 kg of the lot, and the customer who got its feed",
            trigger: ".o_form_view .o_field_one2many tr:contains('TOUR FARM'):contains('500.00'):contains('TOUR FEED')",
            run: function () {},
        },
        {
            content: "Open it as a list, to export",
            trigger: ".o_form_view button[name='action_open_lines']",
        },
        {
            content: "The list of the recall",
            trigger: ".o_list_view td:contains('TOUR FARM')",
            run: function () {},
        },
    ]);
});
