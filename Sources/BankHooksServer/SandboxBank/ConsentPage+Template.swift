import Mustache

/// The consent page's markup and style: one Mustache template (HTML escaping on, so every value
/// is escaped), inline CSS, an inline SVG logo in the institution's colours. No JavaScript and
/// nothing loaded from elsewhere: the page works offline and in any browser.
enum ConsentPageTemplate {
    /// The template, parsed once (the tests render it, so a syntax error cannot ship).
    static let page = Result { try MustacheTemplate(string: pageText) }

    static let pageText = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>{{title}} · {{bank.name}}</title>
    <style>
    {{{css}}}
    :root { --brand: {{bank.mainColor}}; --brand-ink: {{bank.inkColor}}; }
    </style>
    </head>
    <body>
    <main class="card" aria-labelledby="heading">
      <header class="bank">
        <svg class="logo" width="56" height="56" viewBox="0 0 56 56" role="img" aria-label="{{bank.name}} logo">
          <rect width="56" height="56" rx="14" fill="{{bank.mainColor}}"/>
          <path d="M12 24 L28 13 L44 24 Z" fill="{{bank.inkColor}}" opacity="0.9"/>
          <rect x="15" y="26" width="4" height="12" fill="{{bank.inkColor}}" opacity="0.9"/>
          <rect x="26" y="26" width="4" height="12" fill="{{bank.inkColor}}" opacity="0.9"/>
          <rect x="37" y="26" width="4" height="12" fill="{{bank.inkColor}}" opacity="0.9"/>
          <rect x="12" y="40" width="32" height="4" rx="1" fill="{{bank.inkColor}}" opacity="0.9"/>
        </svg>
        <div>
          <div class="bank-name">{{bank.name}}</div>
          <div class="secure"><span class="lock" aria-hidden="true"></span> Secure sign-in · {{bank.countryCode}}</div>
        </div>
      </header>
      {{#error}}
      <section class="notice {{kind}}" role="alert">
        <h1 id="heading">{{heading}}</h1>
        <p>{{message}}</p>
      </section>
      {{/error}}
      {{#form}}
      <h1 id="heading" class="ask"><strong>{{applicationName}}</strong> would like to access your {{bank.name}} account</h1>
      {{#failure}}<p class="failure" role="alert">{{failure}}</p>{{/failure}}
      <section class="permissions" aria-label="What you are sharing">
        <h2>You will share</h2>
        <ul>
          {{#permissions}}<li><span class="tick" aria-hidden="true"></span><span><strong>{{title}}</strong> {{detail}}</span></li>{{/permissions}}
        </ul>
      </section>
      <form method="post" action="{{action}}" autocomplete="off">
        <input type="hidden" name="state" value="{{state}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="username">Username</label>
        <input id="username" name="username" type="text" value="{{username}}" required autocapitalize="none" spellcheck="false">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required>
        <p class="hint">In this sandbox the password of every login is the login itself.</p>
        <div class="buttons">
          <button class="approve" type="submit" name="decision" value="approve">Approve</button>
          <button class="deny" type="submit" name="decision" value="deny" formnovalidate>Deny</button>
        </div>
      </form>
      <p class="expiry">This request expires at {{expiresAt}}.</p>
      <details>
        <summary>Sandbox logins</summary>
        <table>
          <thead><tr><th scope="col">Login</th><th scope="col">What happens</th></tr></thead>
          <tbody>
          {{#magicLogins}}<tr><td><code>{{login}}</code></td><td>{{outcome}}</td></tr>{{/magicLogins}}
          </tbody>
        </table>
      </details>
      {{/form}}
      <footer>A sandbox bank run by BankHooks. No real bank, account or money is involved.</footer>
    </main>
    </body>
    </html>

    """#

    /// The page's style (inline: the page loads nothing from elsewhere).
    static let css = """
    *,*::before,*::after{box-sizing:border-box}
    body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:40px 16px;
      font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1c2430;
      background:linear-gradient(160deg,#eef2f6 0%,#dde4ec 100%)}
    .card{width:100%;max-width:440px;background:#fff;border-radius:18px;box-shadow:0 12px 40px rgba(20,35,60,.14);overflow:hidden}
    .bank{display:flex;gap:14px;align-items:center;padding:22px 26px;border-top:6px solid var(--brand);border-bottom:1px solid #e6ebf1}
    .logo{flex:none}
    .bank-name{font-weight:700;font-size:19px;letter-spacing:.2px}
    .secure{font-size:13px;color:#4f6b58}
    .lock{display:inline-block;width:9px;height:7px;background:#2f7d4f;border-radius:1px;position:relative;margin:0 3px 0 1px;vertical-align:0}
    .lock::before{content:"";position:absolute;left:1px;top:-5px;width:7px;height:6px;border:2px solid #2f7d4f;border-bottom:0;border-radius:4px 4px 0 0}
    h1{font-size:20px;line-height:1.35;margin:22px 26px 8px}
    .ask strong{color:var(--brand)}
    h2{font-size:13px;text-transform:uppercase;letter-spacing:.8px;color:#5b6777;margin:0 0 8px}
    .permissions{margin:14px 26px;padding:14px 16px;background:#f6f8fa;border-radius:12px}
    .permissions ul{list-style:none;margin:0;padding:0}
    .permissions li{display:flex;gap:10px;padding:5px 0;font-size:14px}
    .tick{flex:none;width:16px;height:16px;margin-top:3px;border-radius:50%;background:var(--brand);position:relative}
    .tick::after{content:"";position:absolute;left:5px;top:2px;width:4px;height:8px;border:solid var(--brand-ink);border-width:0 2px 2px 0;transform:rotate(45deg)}
    form{margin:6px 26px 0}
    label{display:block;font-size:14px;font-weight:600;margin:14px 0 5px}
    input[type=text],input[type=password]{width:100%;padding:11px 12px;font-size:16px;border:1px solid #c5ced9;border-radius:10px;background:#fff}
    input:focus{outline:3px solid color-mix(in srgb,var(--brand) 35%,transparent);border-color:var(--brand)}
    .hint{font-size:12.5px;color:#66727f;margin:6px 0 0}
    .buttons{display:flex;gap:12px;margin:20px 0 6px}
    button{flex:1;padding:12px;font-size:16px;font-weight:600;border-radius:10px;cursor:pointer}
    .approve{background:var(--brand);color:var(--brand-ink);border:1px solid var(--brand)}
    .deny{background:#fff;color:#1c2430;border:1px solid #b9c3cf}
    button:focus-visible{outline:3px solid #1c2430;outline-offset:2px}
    .failure{margin:10px 26px 0;padding:10px 12px;border-radius:10px;background:#fdecec;color:#8a1c1c;font-size:14px}
    .notice{margin:0;padding:6px 0 18px}
    .notice p{margin:0 26px;color:#3d4856}
    .notice.problem h1{color:#8a1c1c}
    .expiry{font-size:12.5px;color:#66727f;margin:10px 26px}
    details{margin:6px 26px 18px;font-size:13.5px;border:1px solid #e1e7ee;border-radius:10px;padding:8px 12px}
    summary{cursor:pointer;font-weight:600;color:#3d4856}
    table{border-collapse:collapse;width:100%;margin-top:8px}
    th,td{text-align:left;padding:5px 6px;border-top:1px solid #edf1f5;vertical-align:top}
    th{font-size:12px;text-transform:uppercase;letter-spacing:.6px;color:#66727f;border-top:0}
    code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f2f4f7;padding:1px 4px;border-radius:4px;white-space:nowrap}
    footer{padding:14px 26px;background:#f6f8fa;border-top:1px solid #e6ebf1;font-size:12px;color:#66727f}
    """
}
