/// The dashboard's one stylesheet and one small script, served by the binary (nothing loaded
/// from elsewhere). The script only enhances: without it every page and form works, and a secret
/// is selected and copied by hand.
enum DashboardAssets {
    /// `/dashboard/style.css`.
    static let css = """
    *,*::before,*::after{box-sizing:border-box}
    :root{--ink:#17202b;--muted:#5b6675;--line:#e3e8ee;--bg:#f5f7fa;--card:#fff;--brand:#1f5eff;--brand-ink:#fff;
      --ok:#1d7a46;--ok-bg:#e6f5ec;--bad:#a4262c;--bad-bg:#fdecec;--warn:#8a5a00;--warn-bg:#fff4db;--radius:10px}
    html{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
    body{margin:0;min-height:100vh;display:flex;flex-direction:column}
    a{color:var(--brand)}
    a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}
    .skip{position:absolute;left:-999px;top:8px;background:#fff;padding:8px 12px;border-radius:6px;z-index:2}
    .skip:focus{left:8px}
    .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
    .top{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center;padding:12px 24px;background:#0f1723;color:#e8edf4}
    .brand{display:flex;align-items:center;gap:8px;color:#fff;font-weight:700;font-size:17px;text-decoration:none}
    .mark{width:18px;height:18px;border-radius:5px;background:linear-gradient(135deg,#4d86ff,#1f5eff)}
    .top nav a{color:#c8d2df;text-decoration:none;padding:6px 10px;border-radius:6px}
    .top nav a[aria-current=page]{color:#fff;background:#223048}
    .who{margin-left:auto;display:flex;gap:10px;align-items:center;font-size:13px}
    .role{text-transform:uppercase;letter-spacing:.6px;font-size:11px;font-weight:700;padding:2px 8px;border-radius:99px;background:#223048;color:#fff}
    .app{color:#c8d2df}
    main{flex:1;width:100%;max-width:1080px;margin:0 auto;padding:28px 24px}
    main:focus{outline:none}
    .foot{color:var(--muted);font-size:12px;text-align:center;padding:18px}
    h1{font-size:24px;line-height:1.25;margin:0 0 16px}
    h2{font-size:17px;margin:28px 0 12px}
    h3{font-size:15px;margin:0}
    .muted{color:var(--muted)}
    .small{font-size:12.5px}
    .mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere}
    code{background:#eef1f5;padding:1px 5px;border-radius:4px}
    .page-head,.section-head{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between}
    .page-head h1{margin:0}
    .page-head{margin-bottom:18px}
    .crumbs{font-size:13px;color:var(--muted);margin-bottom:8px}
    .card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:22px 24px;box-shadow:0 1px 2px rgba(15,23,35,.04)}
    .narrow{max-width:480px;margin:24px auto}
    label{display:block;font-weight:600;margin:14px 0 5px}
    input[type=text],input[type=url],input[type=password],select{width:100%;max-width:560px;padding:9px 11px;font:inherit;border:1px solid #c3ccd7;border-radius:8px;background:#fff;color:var(--ink)}
    input[aria-invalid=true],fieldset[aria-invalid=true]{border-color:var(--bad)}
    fieldset{border:1px solid var(--line);border-radius:var(--radius);margin:18px 0 0;padding:10px 16px 14px}
    legend{font-weight:600;padding:0 6px}
    .hint{font-size:13px;color:var(--muted);margin:6px 0}
    details{margin:8px 0}
    summary{cursor:pointer;font-weight:600}
    .checks{list-style:none;margin:6px 0 0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:2px 16px}
    .checks li{display:flex;gap:8px;align-items:flex-start;min-width:0}
    .checks input{margin-top:5px}
    .checks label{font-weight:400;margin:2px 0;min-width:0;overflow-wrap:anywhere}
    .actions{display:flex;flex-wrap:wrap;gap:10px;margin-top:20px}
    .button{display:inline-flex;align-items:center;justify-content:center;min-height:38px;padding:8px 14px;font:inherit;font-weight:600;
      border:1px solid #c3ccd7;border-radius:8px;background:#fff;color:var(--ink);text-decoration:none;cursor:pointer}
    .button:hover{background:#f0f3f7}
    .button.primary{background:var(--brand);border-color:var(--brand);color:var(--brand-ink)}
    .button.primary:hover{background:#174ad0}
    .button.danger{border-color:#e3a5a8;color:var(--bad)}
    .button[disabled]{opacity:.5;cursor:not-allowed}
    .link{background:none;border:0;padding:0;font:inherit;color:#c8d2df;text-decoration:underline;cursor:pointer}
    form.inline{display:inline}
    .toolbar{display:flex;flex-wrap:wrap;gap:10px;margin:18px 0}
    .toolbar form{margin:0}
    .filter{display:flex;gap:8px;align-items:center}
    .filter label{margin:0}
    .filter select{width:auto}
    .table-wrap{background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden}
    table{border-collapse:collapse;width:100%}
    th,td{text-align:left;padding:10px 14px;border-bottom:1px solid var(--line);vertical-align:top}
    thead th{font-size:12px;text-transform:uppercase;letter-spacing:.5px;color:var(--muted);background:#fafbfc}
    tbody tr:last-child td{border-bottom:0}
    .kv th{font-weight:600;white-space:nowrap;width:1%}
    .kv td{word-break:break-all}
    .badge{display:inline-block;font-size:12px;font-weight:600;padding:2px 9px;border-radius:99px;background:#eef1f5;color:var(--ink);white-space:nowrap}
    .badge-enabled,.badge-succeeded,.badge-ok{background:var(--ok-bg);color:var(--ok)}
    .badge-disabled,.badge-failed,.badge-bad{background:var(--bad-bg);color:var(--bad)}
    .badge-pending{background:var(--warn-bg);color:var(--warn)}
    .facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0 0 8px}
    .facts dt{color:var(--muted)}
    .facts dd{margin:0;word-break:break-all}
    .flash{padding:10px 14px;border-radius:var(--radius);margin:0 0 16px}
    .flash-success{background:var(--ok-bg);color:var(--ok)}
    .flash-problem,.error{background:var(--bad-bg);color:var(--bad);padding:10px 14px;border-radius:var(--radius);margin:0 0 16px}
    .error-text{color:var(--bad)}
    .secret,.send{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--brand);border-radius:var(--radius);padding:12px 16px;margin:0 0 18px}
    .secret h2,.send h2{margin:0 0 6px;font-size:15px}
    .send-ok{border-left-color:var(--ok)}
    .send-failed{border-left-color:var(--bad)}
    .copy-row{display:flex;gap:8px}
    .copy-row input{flex:1;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13.5px}
    .excerpt{background:#0f1723;color:#e8edf4;padding:10px 12px;border-radius:8px;overflow:auto;max-height:260px;white-space:pre-wrap;word-break:break-all}
    .attempt{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:12px 16px;margin:0 0 12px}
    .attempt header{display:flex;flex-wrap:wrap;gap:10px;align-items:center}
    .empty{background:var(--card);border:1px dashed #c3ccd7;border-radius:12px;padding:28px;text-align:center;color:var(--muted)}
    .empty h2{margin-top:0;color:var(--ink)}
    .pager{display:flex;gap:10px;margin-top:14px}
    .notice h1{color:var(--bad)}
    .danger-zone{border-color:#efc3c5}
    input[type=datetime-local],input[type=search],textarea{width:100%;max-width:560px;padding:8px 11px;font:inherit;border:1px solid #c3ccd7;border-radius:8px;background:#fff;color:var(--ink)}
    textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
    textarea:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}
    .filters{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:flex-end;margin-bottom:18px}
    .filters .field{flex:1 1 200px;min-width:0}
    .filters .actions-end{flex:0 0 auto;display:flex;gap:8px;padding-bottom:1px}
    .filter input[type=search]{width:auto;min-width:220px}
    .card.recover{margin:0 0 18px;padding:12px 18px}
    .inline-form{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;margin:0 0 8px}
    .inline-form label{margin:0;flex-basis:100%}
    .inline-form select{width:auto;min-width:180px}
    .switches{display:flex;flex-wrap:wrap;gap:6px}
    .switches form{margin:0}
    .switch{font:inherit;font-size:13px;font-weight:600;min-height:32px;padding:4px 12px;border-radius:99px;border:1px solid #e3a5a8;background:var(--bad-bg);color:var(--bad);cursor:pointer}
    .switch[aria-pressed=true]{border-color:#9fd3b4;background:var(--ok-bg);color:var(--ok)}
    .switch:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}
    .radio{display:flex;gap:8px;align-items:center}
    .radio label{margin:4px 0;font-weight:400}
    progress{width:100%;max-width:560px;height:14px;accent-color:var(--brand)}
    .break{overflow-wrap:anywhere;font-size:20px}
    .lead{font-size:16px;max-width:760px}
    .flush{margin-top:0}
    .spaced{margin-top:14px}
    .excerpt.code{white-space:pre;word-break:normal;max-height:420px}
    .excerpt.tall{max-height:640px}
    .excerpt:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}
    @media (max-width:680px){
      main{padding:18px 14px}
      .top{padding:10px 14px}
      .who{margin-left:0}
      table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
      table.stack tr{display:block;border-bottom:1px solid var(--line);padding:8px 0}
      table.stack td{display:block;border:0;padding:4px 14px}
      table.stack td::before{content:attr(data-label);display:block;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
      .facts{grid-template-columns:1fr}
      .facts dt{margin-top:6px}
    }
    """

    /// `/dashboard/dashboard.js`: shows each copy button and copies its field's text.
    static let script = """
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { button.textContent = "Copied"; button.setAttribute("aria-live", "polite"); };
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
    """
}
