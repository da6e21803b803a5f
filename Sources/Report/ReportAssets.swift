/// The page's only style sheet and script, inlined: the report is one file that reads offline.
enum ReportAssets {
    /// A readable column on any screen; wide tables and code scroll inside their own box, never the page.
    static let css = HTML(trusted: """
    :root { color-scheme: light; }
    body { font: 16px/1.5 system-ui, -apple-system, "DejaVu Sans", sans-serif; color: #1b1b1b; background: #fff;
           max-width: 62rem; margin: 0 auto; padding: 0 1rem 4rem; overflow-wrap: break-word; }
    h1 { font-size: 1.6rem; line-height: 1.25; } h2 { margin-top: 2.5rem; border-top: 2px solid #ddd; padding-top: 1rem; }
    h2 small { font-size: .9rem; font-weight: normal; }
    img, svg { max-width: 100%; height: auto; }
    figure { margin: 1rem 0; } figcaption { font-size: .95rem; color: #333; }
    .scroll { overflow-x: auto; max-width: 100%; margin: .5rem 0; }
    .scroll:focus { outline: 2px solid #1a5fb4; }
    table { border-collapse: collapse; font-size: .9rem; }
    /* Claims keep readable columns on a phone: their table scrolls sideways in its box instead. */
    table.claims { min-width: 40rem; }
    caption { text-align: left; font-weight: bold; padding: .25rem 0; }
    th, td { border: 1px solid #c8c8c8; padding: .3rem .5rem; text-align: left; vertical-align: top; }
    thead th { background: #f0f0f0; }
    tbody th { font-weight: normal; }
    th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer; text-align: left; color: inherit; }
    th[aria-sort=ascending] button::after { content: " ▲"; } th[aria-sort=descending] button::after { content: " ▼"; }
    tr.holds .verdict { background: #dcf2d6; } tr.fails .verdict { background: #fbd5d0; } tr.deferred .verdict { background: #ececec; } tr.inconclusive .verdict { background: #fdf0c4; }
    .verdict, table.numbers td, table.numbers th { white-space: nowrap; }
    pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .5rem; margin: 0; font-size: .85rem; }
    code { font-size: .9em; } code.digest { overflow-wrap: anywhere; word-break: break-all; }
    dl.provenance { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; }
    dl.provenance dt { font-weight: bold; } dl.provenance dd { margin: 0; min-width: 0; }
    @media (max-width: 40rem) { dl.provenance { grid-template-columns: minmax(0, 1fr); } dl.provenance dd { margin-bottom: .4rem; } }
    .note { border-left: 4px solid #888; background: #f4f4f4; padding: .5rem .75rem; }
    .note.stale { border-color: #d08a00; background: #fff4dc; } .note.failed { border-color: #c01c28; background: #fde3e0; }
    .state { padding: 0 .3rem; border-radius: 3px; border: 1px solid #999; white-space: nowrap; }
    .state.up-to-date { background: #c7e9c0; } .state.stale { background: #fdd49e; }
    .state.never-run { background: #e0e0e0; } .state.failed { background: #fc9272; }
    .audit { padding: 0 .3rem; border-radius: 3px; border: 1px solid #999; } .audit.identical { background: #c7e9c0; }
    .audit.differs, .audit.could-not-run { background: #fc9272; } .audit.differs-threads { background: #fdd49e; }
    ul.downloads li { margin-bottom: .3rem; }
    .summary dt { font-weight: bold; } .summary dd { margin: 0 0 .4rem 0; }
    @media print { .scroll { overflow: visible; } }
    """)

    /// Click a column header to sort its table; without JavaScript the tables stay in their own order.
    static let sortScript = HTML(trusted: """
    document.querySelectorAll('table.sortable').forEach(function (table) {
      var headers = table.querySelectorAll('thead th');
      headers.forEach(function (th, column) {
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = th.textContent;
        th.textContent = '';
        th.appendChild(button);
        button.addEventListener('click', function () {
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          var ascending = th.getAttribute('aria-sort') !== 'ascending';
          headers.forEach(function (other) { other.removeAttribute('aria-sort'); });
          th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
          rows.sort(function (a, b) {
            var x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
            var nx = parseFloat(x), ny = parseFloat(y);
            var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
    """)
}
