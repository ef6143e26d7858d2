/// The dashboard's Mustache templates (HTML escaping on: `{{x}}` escapes, `{{{content}}}` is the
/// already rendered page). Forms post to the dashboard with the session's `csrf` field; every
/// control has a label; tables become stacked rows on a narrow screen (the stylesheet).
enum DashboardTemplates {
    static let all: [(String, String)] = [
        ("layout", layout), ("csrf", csrf), ("signIn", signIn), ("webhooks", webhooks), ("webhookForm", webhookForm),
        ("webhook", webhook), ("deleteWebhook", deleteWebhook), ("delivery", delivery), ("message", message),
    ]

    static let layout = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="same-origin">
    {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
    <title>{{title}} · BankHooks</title>
    <link rel="stylesheet" href="/dashboard/style.css">
    <script src="/dashboard/dashboard.js" defer></script>
    </head>
    <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/dashboard/webhooks"><span class="mark" aria-hidden="true"></span>BankHooks</a>
      {{#session}}
      <nav aria-label="Main">
        <a href="/dashboard/webhooks"{{#nav.webhooks}} aria-current="page"{{/nav.webhooks}}>Webhooks</a>
        <a href="/dashboard/events"{{#nav.events}} aria-current="page"{{/nav.events}}>Events</a>
        <a href="/dashboard/event-types"{{#nav.catalog}} aria-current="page"{{/nav.catalog}}>Catalog</a>
        <a href="/dashboard/sandbox"{{#nav.sandbox}} aria-current="page"{{/nav.sandbox}}>Sandbox</a>
        {{#canManage}}<a href="/dashboard/api-keys"{{#nav.keys}} aria-current="page"{{/nav.keys}}>API keys</a>{{/canManage}}
        {{#isOperator}}<a href="/dashboard/applications"{{#nav.applications}} aria-current="page"{{/nav.applications}}>Applications</a>{{/isOperator}}
      </nav>
      <div class="who">
        <span class="role" title="Your key's role">{{role}}</span>
        <span class="app">{{applicationID}}</span>
        <form method="post" action="/dashboard/sign-out" class="inline">
          {{> csrf}}
          <button class="link" type="submit">Sign out</button>
        </form>
      </div>
      {{/session}}
    </header>
    <main id="main" tabindex="-1">
    {{#flash}}
    <div class="flash flash-{{kind}}" role="status">{{message}}</div>
    {{#secret}}
    <section class="secret" aria-labelledby="secret-heading">
      <h2 id="secret-heading">{{secretLabel}}</h2>
      <p>Copy it now and keep it safe: it is shown only this once.</p>
      <div class="copy-row">
        <input id="secret" class="mono" type="text" readonly value="{{secret}}" aria-label="{{secretLabel}}">
        <button type="button" class="button" data-copy="secret" hidden>Copy</button>
      </div>
    </section>
    {{/secret}}
    {{#send}}
    <section class="send {{#succeeded}}send-ok{{/succeeded}}{{^succeeded}}send-failed{{/succeeded}}" aria-labelledby="send-heading">
      <h2 id="send-heading">{{#succeeded}}Delivered{{/succeeded}}{{^succeeded}}Not delivered{{/succeeded}}</h2>
      <p><span class="badge">{{statusText}}</span> in {{duration}} ms{{#deliveryID}} · <a href="/dashboard/deliveries/{{deliveryID}}">see the attempt</a>{{/deliveryID}}</p>
      {{#error}}<p class="error-text">{{error}}</p>{{/error}}
      {{#responseExcerpt}}<pre class="excerpt" aria-label="Response">{{responseExcerpt}}</pre>{{/responseExcerpt}}
    </section>
    {{/send}}
    {{/flash}}
    {{{content}}}
    </main>
    <footer class="foot">BankHooks · signed, retried, never lost</footer>
    </body>
    </html>

    """#

    static let csrf = #"<input type="hidden" name="csrf" value="{{csrf}}">"#

    static let signIn = #"""
    <section class="card narrow" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      <p class="muted">Sign in with an API key of your application. The dashboard acts as that key: a viewer reads, an admin manages.</p>
      {{#signedOut}}<p class="flash flash-success" role="status">You are signed out.</p>{{/signedOut}}
      {{#failure}}<p class="error" role="alert" id="sign-in-error">{{failure}}</p>{{/failure}}
      <form method="post" action="/dashboard/sign-in">
        {{> csrf}}
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required placeholder="bhk_…"{{#failure}} aria-invalid="true" aria-describedby="sign-in-error"{{/failure}}>
        <div class="actions"><button class="button primary" type="submit">Sign in</button></div>
      </form>
    </section>
    """#

    static let webhooks = #"""
    <div class="page-head">
      <h1>Webhooks</h1>
      {{#canManage}}<a class="button primary" href="/dashboard/webhooks/new">New webhook</a>{{/canManage}}
    </div>
    {{#hasWebhooks}}
    <div class="table-wrap">
    <table class="stack">
      <caption class="sr-only">The application's webhooks, with their attempts over the last 24 hours, to the hour</caption>
      <thead><tr><th scope="col">Webhook</th><th scope="col">Status</th><th scope="col">Format</th><th scope="col">Events</th><th scope="col">Success, 24 h</th><th scope="col">Last attempt</th></tr></thead>
      <tbody>
      {{#webhooks}}
      <tr>
        <td data-label="Webhook"><a href="/dashboard/webhooks/{{idPath}}">{{title}}</a><div class="muted mono small">{{url}}</div></td>
        <td data-label="Status"><span class="badge badge-{{statusClass}}">{{status}}</span></td>
        <td data-label="Format">{{format}}</td>
        <td data-label="Events">{{events}}</td>
        <td data-label="Success, 24 h">{{successRate}}<div class="muted small">{{attempts}}</div></td>
        <td data-label="Last attempt">{{lastAttempt}}</td>
      </tr>
      {{/webhooks}}
      </tbody>
    </table>
    </div>
    <p class="muted small">Success and last attempt count every attempt (tests, resends and recoveries too) in the current hour and the 23 before it, in UTC. An attempt succeeds when the answer is a success in the webhook's format.</p>
    {{/hasWebhooks}}
    {{^hasWebhooks}}
    <div class="empty">
      <h2>No webhooks yet</h2>
      <p>A webhook is a URL of yours that BankHooks sends events to, signed and retried.</p>
      {{#canManage}}<a class="button primary" href="/dashboard/webhooks/new">Create your first webhook</a>{{/canManage}}
    </div>
    {{/hasWebhooks}}
    """#

    static let webhookForm = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/webhooks">Webhooks</a> <span aria-hidden="true">/</span> {{#editing}}<a href="/dashboard/webhooks/{{idPath}}">{{title}}</a> <span aria-hidden="true">/</span> Edit{{/editing}}{{^editing}}New{{/editing}}</nav>
    <h1>{{heading}}</h1>
    {{#problem}}<div class="error" role="alert" id="form-error"><strong>{{title}}.</strong> {{detail}}</div>{{/problem}}
    <form method="post" action="{{action}}" class="card">
      {{> csrf}}
      <label for="url">Endpoint URL</label>
      <input id="url" name="url" type="url" required value="{{url}}" placeholder="https://example.com/webhooks"{{#urlInvalid}} aria-invalid="true" aria-describedby="form-error"{{/urlInvalid}}>
      <label for="name">Name <span class="muted">(optional)</span></label>
      <input id="name" name="name" type="text" value="{{name}}"{{#nameInvalid}} aria-invalid="true" aria-describedby="form-error"{{/nameInvalid}}>
      {{#isNew}}
      <label for="format">Format</label>
      <select id="format" name="format">
        {{#formats}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/formats}}
      </select>
      <p class="hint">How deliveries are shaped and signed: <code>standard</code> (Standard Webhooks), or as Lean, Okra or Bridge send them.</p>
      {{/isNew}}
      {{^isNew}}<p class="hint">Format: <code>{{format}}</code> (a webhook keeps its format; create another for a different one).</p>{{/isNew}}
      <fieldset{{#eventsInvalid}} aria-invalid="true" aria-describedby="form-error"{{/eventsInvalid}}>
        <legend>Events</legend>
        <p class="hint">Pick none to receive every event type. Each type lists the formats that carry it.</p>
        {{#families}}
        <details open>
          <summary>{{family}} <span class="muted">({{count}})</span></summary>
          <ul class="checks">
            {{#types}}<li><input type="checkbox" id="event-{{index}}" name="event:{{name}}" value="on"{{#checked}} checked{{/checked}}><label for="event-{{index}}"><code>{{name}}</code> <span class="muted small">{{formats}}</span></label></li>{{/types}}
          </ul>
        </details>
        {{/families}}
      </fieldset>
      <div class="actions"><button class="button primary" type="submit">{{#isNew}}Create webhook{{/isNew}}{{^isNew}}Save changes{{/isNew}}</button> <a class="button" href="{{cancel}}">Cancel</a></div>
    </form>
    """#

    static let webhook = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/webhooks">Webhooks</a> <span aria-hidden="true">/</span> {{title}}</nav>
    <div class="page-head">
      <h1>{{title}}</h1>
      <span class="badge badge-{{statusClass}}">{{status}}</span>
    </div>
    <dl class="facts">
      <dt>URL</dt><dd class="mono">{{url}}</dd>
      <dt>Format</dt><dd>{{format}}</dd>
      <dt>Events</dt><dd>{{events}}</dd>
      {{#disabledReason}}<dt>Disabled because</dt><dd>{{disabledReason}}</dd>{{/disabledReason}}
      {{#previousSecretExpiresAt}}<dt>Previous secret</dt><dd>still signs until {{previousSecretExpiresAt}}</dd>{{/previousSecretExpiresAt}}
      <dt>Created</dt><dd>{{createdAt}}</dd>
      <dt>ID</dt><dd class="mono">{{id}}</dd>
    </dl>
    {{#canManage}}
    <section class="toolbar" aria-label="Actions">
      <form method="post" action="/dashboard/webhooks/{{idPath}}/test">{{> csrf}}<button class="button primary" type="submit"{{^enabled}} disabled{{/enabled}}>Send a test</button></form>
      {{#isEditable}}<a class="button" href="/dashboard/webhooks/{{idPath}}/edit">Edit</a>{{/isEditable}}
      {{#enabled}}<form method="post" action="/dashboard/webhooks/{{idPath}}/disable">{{> csrf}}<button class="button" type="submit">Disable</button></form>{{/enabled}}
      {{^enabled}}<form method="post" action="/dashboard/webhooks/{{idPath}}/enable">{{> csrf}}<button class="button" type="submit">Enable</button></form>{{/enabled}}
      <form method="post" action="/dashboard/webhooks/{{idPath}}/rotate-secret">{{> csrf}}<button class="button" type="submit">Rotate secret</button></form>
      <a class="button danger" href="/dashboard/webhooks/{{idPath}}/delete">Delete…</a>
    </section>
    <details class="card recover">
      <summary>Recover failed deliveries since a time</summary>
      <form method="post" action="/dashboard/webhooks/{{idPath}}/recover">
        {{> csrf}}
        <p class="hint">Each failed delivery to this webhook created in the window gets one more attempt, in the background; the next page shows the progress.</p>
        <div class="filters">
          <div class="field"><label for="recover-since">Since <span class="muted">(UTC)</span></label><input id="recover-since" name="since" type="datetime-local" step="1" required></div>
          <div class="field"><label for="recover-until">Until <span class="muted">(UTC, optional)</span></label><input id="recover-until" name="until" type="datetime-local" step="1"></div>
          <div class="field actions-end"><button class="button" type="submit">Recover</button></div>
        </div>
      </form>
    </details>
    {{/canManage}}
    <section aria-labelledby="deliveries-heading">
      <div class="section-head">
        <h2 id="deliveries-heading">Deliveries</h2>
        <form method="get" action="/dashboard/webhooks/{{idPath}}" class="filter">
          <label for="status">Status</label>
          <select id="status" name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select>
          <button class="button" type="submit">Filter</button>
        </form>
      </div>
      {{#hasDeliveries}}
      <div class="table-wrap">
      <table class="stack">
        <caption class="sr-only">Deliveries to this webhook, newest first</caption>
        <thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last response</th><th scope="col">Last attempt</th></tr></thead>
        <tbody>
        {{#deliveries}}
        <tr>
          <td data-label="Delivery"><a href="/dashboard/deliveries/{{id}}">#{{id}}</a></td>
          <td data-label="Event"><code>{{eventType}}</code></td>
          <td data-label="State"><span class="badge badge-{{state}}">{{state}}</span></td>
          <td data-label="Attempts">{{attemptCount}}</td>
          <td data-label="Last response">{{lastStatus}}</td>
          <td data-label="Last attempt">{{lastAttempt}}</td>
        </tr>
        {{/deliveries}}
        </tbody>
      </table>
      </div>
      {{/hasDeliveries}}
      {{^hasDeliveries}}<p class="empty">No deliveries{{#filtered}} in this state{{/filtered}} yet.{{#canManage}} “Send a test” makes one.{{/canManage}}</p>{{/hasDeliveries}}
      <nav class="pager" aria-label="Pages">
        {{#newest}}<a class="button" href="{{href}}">Newest</a>{{/newest}}
        {{#older}}<a class="button" href="{{href}}" rel="next">Older</a>{{/older}}
      </nav>
    </section>
    """#

    static let deleteWebhook = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/webhooks">Webhooks</a> <span aria-hidden="true">/</span> <a href="/dashboard/webhooks/{{idPath}}">{{title}}</a> <span aria-hidden="true">/</span> Delete</nav>
    <section class="card narrow danger-zone" aria-labelledby="delete-heading">
      <h1 id="delete-heading">Delete {{title}}?</h1>
      <p>BankHooks stops sending to <span class="mono">{{url}}</span> at once, and the webhook's delivery log goes with it. This cannot be undone.</p>
      <form method="post" action="/dashboard/webhooks/{{idPath}}/delete">
        {{> csrf}}
        <div class="actions"><button class="button danger" type="submit">Delete webhook</button> <a class="button" href="/dashboard/webhooks/{{idPath}}">Cancel</a></div>
      </form>
    </section>
    """#

    static let delivery = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/webhooks">Webhooks</a> <span aria-hidden="true">/</span> <a href="/dashboard/webhooks/{{webhookPath}}">{{webhookTitle}}</a> <span aria-hidden="true">/</span> Delivery #{{id}}</nav>
    <div class="page-head">
      <h1>Delivery #{{id}}</h1>
      <span class="badge badge-{{state}}">{{state}}</span>
    </div>
    <dl class="facts">
      <dt>Event</dt><dd><code>{{eventType}}</code> <a class="mono small" href="/dashboard/events/{{eventPath}}">{{eventID}}</a></dd>
      <dt>Attempts</dt><dd>{{attemptCount}}</dd>
      {{#nextAttemptAt}}<dt>Next attempt</dt><dd>{{nextAttemptAt}}</dd>{{/nextAttemptAt}}
      <dt>Created</dt><dd>{{createdAt}}</dd>
    </dl>
    {{#canResend}}
    <section class="toolbar" aria-label="Actions">
      <form method="post" action="/dashboard/deliveries/{{id}}/resend">{{> csrf}}<button class="button primary" type="submit">Resend</button></form>
    </section>
    {{/canResend}}
    <section aria-labelledby="attempts-heading">
      <h2 id="attempts-heading">Attempts</h2>
      {{#attempts}}
      <article class="attempt" aria-labelledby="attempt-{{id}}">
        <header>
          <h3 id="attempt-{{id}}">Attempt {{number}}</h3>
          <span class="badge badge-{{outcome}}">{{statusText}}</span>
          <span class="muted">{{duration}} ms · {{startedAt}}</span>
        </header>
        {{#error}}<p class="error-text">{{error}}</p>{{/error}}
        <details>
          <summary>Request headers</summary>
          <table class="kv"><tbody>{{#headers}}<tr><th scope="row">{{name}}</th><td class="mono">{{value}}</td></tr>{{/headers}}</tbody></table>
        </details>
        {{#responseExcerpt}}<details open><summary>Response</summary><pre class="excerpt">{{responseExcerpt}}</pre></details>{{/responseExcerpt}}
      </article>
      {{/attempts}}
      {{^attempts}}<p class="empty">No attempt yet: the delivery is waiting for its first send.</p>{{/attempts}}
    </section>
    """#

    static let message = #"""
    <section class="card narrow notice" role="alert" aria-labelledby="message-heading">
      <h1 id="message-heading">{{heading}}</h1>
      <p>{{message}}</p>
      {{#field}}<p class="muted small">Where: <code>{{field}}</code></p>{{/field}}
      <p><a class="button" href="{{back}}">{{backLabel}}</a></p>
    </section>
    """#
}
