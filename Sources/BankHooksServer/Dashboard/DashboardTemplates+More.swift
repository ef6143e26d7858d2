/// The templates of the dashboard's second step: events and recovery, the event catalog, the
/// sandbox, and the operator's keys and applications (the same conventions as `DashboardTemplates`).
extension DashboardTemplates {
    static let more: [(String, String)] = [
        ("events", events), ("event", event), ("recovery", recovery), ("eventTypes", eventTypes), ("eventType", eventType),
        ("sandbox", sandbox), ("authorisation", authorisation), ("apiKeys", apiKeys), ("keyTable", keyTable), ("keys", keys),
        ("applications", applications), ("application", application), ("formProblem", formProblem), ("switch", availabilitySwitch),
    ]

    static let formProblem = #"{{#problem}}<div class="error" role="alert" id="form-error"><strong>{{title}}.</strong> {{detail}}</div>{{/problem}}"#

    /// One availability switch of an institution (a button for those who may change it, a badge for the others).
    static let availabilitySwitch = #"""
    {{#canResend}}<form method="post" action="/dashboard/sandbox/institutions/{{idPath}}/availability">{{> csrf}}<input type="hidden" name="setting" value="{{setting}}"><input type="hidden" name="value" value="{{next}}"><button class="switch" type="submit" aria-pressed="{{#on}}true{{/on}}{{^on}}false{{/on}}">{{short}}<span class="sr-only"> ({{label}} at {{name}})</span>: {{stateText}}</button></form>{{/canResend}}
    {{^canResend}}<span class="badge badge-{{#on}}ok{{/on}}{{^on}}bad{{/on}}">{{short}}: {{stateText}}</span>{{/canResend}}
    """#

    static let events = #"""
    <div class="page-head"><h1>Events</h1></div>
    {{> formProblem}}
    <form method="get" action="/dashboard/events" class="card filters" aria-label="Filter events">
      <div class="field">
        <label for="type">Type</label>
        <input id="type" name="type" type="text" list="event-type-names" value="{{type}}" placeholder="Any type" spellcheck="false"{{#typeInvalid}} aria-invalid="true" aria-describedby="form-error"{{/typeInvalid}}>
        <datalist id="event-type-names">{{#types}}<option value="{{name}}"></option>{{/types}}</datalist>
      </div>
      <div class="field">
        <label for="since">From <span class="muted">(UTC)</span></label>
        <input id="since" name="since" type="datetime-local" step="1" value="{{since}}"{{#sinceInvalid}} aria-invalid="true" aria-describedby="form-error"{{/sinceInvalid}}>
      </div>
      <div class="field">
        <label for="until">Until <span class="muted">(UTC)</span></label>
        <input id="until" name="until" type="datetime-local" step="1" value="{{until}}"{{#untilInvalid}} aria-invalid="true" aria-describedby="form-error"{{/untilInvalid}}>
      </div>
      <div class="field actions-end"><button class="button primary" type="submit">Filter</button>{{#filtered}} <a class="button" href="/dashboard/events">Clear</a>{{/filtered}}</div>
    </form>
    {{#hasEvents}}
    <div class="table-wrap">
    <table class="stack">
      <caption class="sr-only">Events, newest first</caption>
      <thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Timestamp</th><th scope="col">Received</th></tr></thead>
      <tbody>
      {{#events}}
      <tr>
        <td data-label="Event"><a class="mono" href="/dashboard/events/{{idPath}}">{{id}}</a></td>
        <td data-label="Type"><code>{{type}}</code></td>
        <td data-label="Timestamp">{{timestamp}}</td>
        <td data-label="Received">{{createdAt}}</td>
      </tr>
      {{/events}}
      </tbody>
    </table>
    </div>
    <nav class="pager" aria-label="Pages">
      {{#newest}}<a class="button" href="{{href}}">Newest</a>{{/newest}}
      {{#older}}<a class="button" href="{{href}}" rel="next">Older</a>{{/older}}
    </nav>
    {{/hasEvents}}
    {{^hasEvents}}{{^problem}}
    <div class="empty">
      <h2>{{#filtered}}No events match these filters{{/filtered}}{{^filtered}}No events yet{{/filtered}}</h2>
      <p>{{#filtered}}Widen the time window or clear the type.{{/filtered}}{{^filtered}}Events appear here once they are published with <code>POST /v1/events</code>, or sent by the sandbox bank.{{/filtered}}</p>
    </div>
    {{/problem}}{{/hasEvents}}
    """#

    static let event = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/events">Events</a> <span aria-hidden="true">/</span> <span class="mono">{{id}}</span></nav>
    <div class="page-head"><h1 class="mono break">{{id}}</h1></div>
    <dl class="facts">
      <dt>Type</dt><dd><a href="/dashboard/event-types/{{typePath}}"><code>{{type}}</code></a></dd>
      <dt>Timestamp</dt><dd>{{timestamp}}</dd>
      <dt>Received</dt><dd>{{createdAt}}</dd>
    </dl>
    <section aria-labelledby="payload-heading">
      <h2 id="payload-heading">Payload</h2>
      <pre class="excerpt code" tabindex="0" aria-labelledby="payload-heading">{{payload}}</pre>
    </section>
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries</h2>
      {{#hasDeliveries}}
      <div class="table-wrap">
      <table class="stack">
        <caption class="sr-only">This event's deliveries, one per subscribed webhook</caption>
        <thead><tr><th scope="col">Delivery</th><th scope="col">Webhook</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last response</th><th scope="col">Last attempt</th>{{#canResend}}<th scope="col"><span class="sr-only">Actions</span></th>{{/canResend}}</tr></thead>
        <tbody>
        {{#deliveries}}
        <tr>
          <td data-label="Delivery"><a href="/dashboard/deliveries/{{id}}">#{{id}}</a></td>
          <td data-label="Webhook"><a href="/dashboard/webhooks/{{webhookPath}}">{{webhookTitle}}</a></td>
          <td data-label="State"><span class="badge badge-{{state}}">{{state}}</span></td>
          <td data-label="Attempts">{{attemptCount}}</td>
          <td data-label="Last response">{{lastStatus}}</td>
          <td data-label="Last attempt">{{lastAttempt}}</td>
          {{#canResend}}<td data-label="Actions"><form method="post" action="/dashboard/deliveries/{{id}}/resend">{{> csrf}}<button class="button" type="submit" aria-label="Resend delivery {{id}}">Resend</button></form></td>{{/canResend}}
        </tr>
        {{/deliveries}}
        </tbody>
      </table>
      </div>
      {{/hasDeliveries}}
      {{^hasDeliveries}}<p class="empty">No webhook was subscribed to this event when it was published, so nothing was sent.</p>{{/hasDeliveries}}
    </section>
    """#

    static let recovery = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/webhooks">Webhooks</a> <span aria-hidden="true">/</span> <a href="/dashboard/webhooks/{{webhookPath}}">{{webhookTitle}}</a> <span aria-hidden="true">/</span> Recovery</nav>
    <div class="page-head">
      <h1>Recovery</h1>
      <span class="badge badge-{{#isRunning}}pending{{/isRunning}}{{^isRunning}}succeeded{{/isRunning}}">{{state}}</span>
    </div>
    <section class="card" aria-labelledby="progress-heading">
      <h2 id="progress-heading" class="flush">{{#isRunning}}Sending the failed deliveries again…{{/isRunning}}{{^isRunning}}Finished{{/isRunning}}</h2>
      <p class="muted">Every delivery to this webhook that had failed, created from {{since}} until {{until}}, gets one more attempt.</p>
      <label for="progress">{{processed}} of {{total}} sent ({{percent}} %)</label>
      <progress id="progress" max="{{progressMax}}" value="{{progressValue}}">{{percent}} %</progress>
      <dl class="facts spaced" aria-live="polite">
        <dt>Delivered</dt><dd>{{succeeded}}</dd>
        <dt>Failed again</dt><dd>{{failed}}</dd>
        <dt>Started</dt><dd>{{createdAt}}</dd>
        {{#finishedAt}}<dt>Finished</dt><dd>{{finishedAt}}</dd>{{/finishedAt}}
        <dt>ID</dt><dd class="mono">{{id}}</dd>
      </dl>
      {{#isRunning}}<p class="hint">This page reloads itself every few seconds until the recovery ends. <a href="/dashboard/recoveries/{{id}}">Reload now</a></p>{{/isRunning}}
      {{^isRunning}}{{#isEmpty}}<p class="hint">No failed delivery was in the window: nothing needed sending.</p>{{/isEmpty}}{{/isRunning}}
    </section>
    <p><a class="button" href="/dashboard/webhooks/{{webhookPath}}">Back to the webhook</a></p>
    """#

    static let eventTypes = #"""
    <div class="page-head"><h1>Event catalog</h1></div>
    <p class="muted">Every event type this application can publish and subscribe to. Each provider's format carries its own family; <code>standard</code> carries them all.</p>
    <form method="get" action="/dashboard/event-types" class="filter" role="search">
      <label for="q">Search</label>
      <input id="q" name="q" type="search" value="{{q}}" placeholder="Name or description">
      <button class="button" type="submit">Search</button>
      {{#searched}}<a class="button" href="/dashboard/event-types">Clear</a>{{/searched}}
    </form>
    {{#families}}
    <section aria-labelledby="family-{{family}}">
      <h2 id="family-{{family}}">{{family}} <span class="muted">({{count}})</span></h2>
      <div class="table-wrap">
      <table class="stack">
        <caption class="sr-only">The {{family}} event types</caption>
        <thead><tr><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Formats</th></tr></thead>
        <tbody>
        {{#types}}
        <tr>
          <td data-label="Type"><a href="/dashboard/event-types/{{namePath}}"><code>{{name}}</code></a></td>
          <td data-label="Description">{{description}}</td>
          <td data-label="Formats">{{formats}}</td>
        </tr>
        {{/types}}
        </tbody>
      </table>
      </div>
    </section>
    {{/families}}
    {{^hasTypes}}<div class="empty"><h2>No event type matches “{{q}}”</h2><p>Search by a part of a name, such as <code>payment</code>, or of a description.</p></div>{{/hasTypes}}
    """#

    static let eventType = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/event-types">Catalog</a> <span aria-hidden="true">/</span> <code>{{name}}</code></nav>
    <div class="page-head"><h1 class="mono break">{{name}}</h1><span class="badge">{{family}}</span></div>
    <p class="lead">{{description}}</p>
    <dl class="facts">
      <dt>Formats</dt><dd>{{#formats}}<code>{{.}}</code> {{/formats}}</dd>
      {{#createdAt}}<dt>Registered</dt><dd>{{createdAt}}</dd>{{/createdAt}}
    </dl>
    {{#hasSchema}}
    <section aria-labelledby="example-heading">
      <h2 id="example-heading">Example</h2>
      <p class="hint">A <code>data</code> object this type accepts, made from its schema (every property present; the first allowed value of each list).</p>
      <pre class="excerpt code" tabindex="0" aria-labelledby="example-heading">{{example}}</pre>
      <details>
        <summary>As a publish body (<code>POST /v1/events</code>)</summary>
        <pre class="excerpt code" tabindex="0" aria-label="Publish body">{{publish}}</pre>
      </details>
    </section>
    <section aria-labelledby="schema-heading">
      <h2 id="schema-heading">Schema of <code>data</code></h2>
      <pre class="excerpt code tall" tabindex="0" aria-labelledby="schema-heading">{{schema}}</pre>
    </section>
    {{/hasSchema}}
    {{^hasSchema}}<p class="empty">This type has no schema: any JSON object is accepted as its <code>data</code>.</p>{{/hasSchema}}
    """#

    static let sandbox = #"""
    <div class="page-head"><h1>Sandbox bank</h1></div>
    <p class="muted">The sandbox's institutions as this application sees them. A switch publishes Lean's availability event to the webhooks subscribed to it.</p>
    <section aria-labelledby="institutions-heading">
      <h2 id="institutions-heading">Institutions</h2>
      {{#hasInstitutions}}
      <div class="table-wrap">
      <table class="stack">
        <caption class="sr-only">Institutions and their availability</caption>
        <thead><tr><th scope="col">Institution</th><th scope="col">Online</th><th scope="col">Enabled</th><th scope="col">IBAN verification</th></tr></thead>
        <tbody>
        {{#institutions}}
        <tr>
          <td data-label="Institution"><strong>{{name}}</strong><div class="muted mono small">{{identifier}} · {{country}} · {{accountType}}</div></td>
          <td data-label="Online"><div class="switches">{{#online}}{{> switch}}{{/online}}</div></td>
          <td data-label="Enabled"><div class="switches">{{#enabledSwitches}}{{> switch}}{{/enabledSwitches}}</div></td>
          <td data-label="IBAN verification"><div class="switches">{{#iban}}{{> switch}}{{/iban}}</div></td>
        </tr>
        {{/institutions}}
        </tbody>
      </table>
      </div>
      {{/hasInstitutions}}
      {{^hasInstitutions}}<div class="empty"><h2>No institutions</h2><p>The sandbox bank has no institution for this application.</p></div>{{/hasInstitutions}}
    </section>
    {{#canResend}}
    <section aria-labelledby="start-heading">
      <h2 id="start-heading">Start an authorisation</h2>
      {{> formProblem}}
      <form method="post" action="/dashboard/sandbox/authorisations" class="card">
        {{> csrf}}
        <label for="institution">Institution</label>
        <select id="institution" name="institution"{{#institutionInvalid}} aria-invalid="true" aria-describedby="form-error"{{/institutionInvalid}}>{{#institutions}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/institutions}}</select>
        <label for="callback">Callback URL</label>
        <input id="callback" name="callback" type="text" required value="{{callback}}" placeholder="https://example.com/callback" spellcheck="false"{{#callbackInvalid}} aria-invalid="true" aria-describedby="form-error"{{/callbackInvalid}}>
        <p class="hint">Where the bank sends the end user back: one of the application's registered redirect callbacks.</p>
        <label for="application_user_id">Your user's id <span class="muted">(optional)</span></label>
        <input id="application_user_id" name="application_user_id" type="text" value="{{applicationUserID}}"{{#applicationUserInvalid}} aria-invalid="true" aria-describedby="form-error"{{/applicationUserInvalid}}>
        <label for="user_uuid">Existing user UUID <span class="muted">(optional)</span></label>
        <input id="user_uuid" name="user_uuid" type="text" value="{{userUUID}}" spellcheck="false"{{#userInvalid}} aria-invalid="true" aria-describedby="form-error"{{/userInvalid}}>
        <p class="hint">Give your user's id, an existing user UUID, or both.</p>
        <div class="actions"><button class="button primary" type="submit">Start authorisation</button></div>
      </form>
    </section>
    {{/canResend}}
    """#

    static let authorisation = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/sandbox">Sandbox</a> <span aria-hidden="true">/</span> Authorisation</nav>
    <div class="page-head"><h1>Authorisation</h1><span class="badge badge-{{statusClass}}" aria-live="polite">{{status}}</span></div>
    <dl class="facts">
      <dt>Institution</dt><dd class="mono">{{institutionID}}</dd>
      <dt>User UUID</dt><dd class="mono">{{userUUID}}</dd>
      {{#applicationUserID}}<dt>Your user's id</dt><dd class="mono">{{applicationUserID}}</dd>{{/applicationUserID}}
      <dt>Created</dt><dd>{{createdAt}}</dd>
      <dt>Expires</dt><dd>{{expiresAt}}</dd>
      <dt>Consents</dt><dd>{{#consents}}<span class="mono">{{id}}</span> {{/consents}}{{^consents}}none yet{{/consents}}</dd>
      <dt>ID</dt><dd class="mono">{{id}}</dd>
    </dl>
    {{#isWaiting}}
    <section class="card" aria-labelledby="next-heading">
      <h2 id="next-heading" class="flush">Waiting for the end user</h2>
      <p>Open the bank's consent page as the end user would, sign in there with a magic login, and approve or deny. This page reloads itself every few seconds and shows the result.</p>
      <p><a class="button primary" href="{{url}}" target="_blank" rel="noopener">Open the consent page</a> <a class="button" href="/dashboard/sandbox/authorisations/{{idPath}}">Reload now</a></p>
      {{#canResend}}
      <details>
        <summary>Or complete it here, without a browser</summary>
        <form method="post" action="/dashboard/sandbox/authorisations/{{idPath}}/complete">
          {{> csrf}}
          <label for="login">Login</label>
          <input id="login" name="login" type="text" required value="user_good" spellcheck="false">
          <label for="password">Password <span class="muted">(optional)</span></label>
          <input id="password" name="password" type="password" autocomplete="off">
          <fieldset>
            <legend>Decision</legend>
            <div class="radio"><input type="radio" id="decision-approve" name="decision" value="approve" checked><label for="decision-approve">Approve</label></div>
            <div class="radio"><input type="radio" id="decision-deny" name="decision" value="deny"><label for="decision-deny">Deny</label></div>
          </fieldset>
          <div class="actions"><button class="button primary" type="submit">Complete</button></div>
        </form>
      </details>
      {{/canResend}}
    </section>
    {{/isWaiting}}
    <details>
      <summary>Magic logins</summary>
      <table class="kv"><tbody>{{#magicLogins}}<tr><th scope="row" class="mono">{{login}}</th><td>{{outcome}}</td></tr>{{/magicLogins}}</tbody></table>
    </details>
    """#

    static let keyTable = #"""
    <div class="table-wrap">
    <table class="stack">
      <caption class="sr-only">API keys, newest first</caption>
      <thead><tr><th scope="col">Key</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
      {{#keys}}
      <tr>
        <td data-label="Key"><span class="mono">{{prefix}}…</span>{{#isThisKey}} <span class="badge">this session</span>{{/isThisKey}}</td>
        <td data-label="Role">{{role}}</td>
        <td data-label="Created">{{createdAt}}</td>
        <td data-label="State">{{#isRevoked}}<span class="badge badge-disabled">revoked {{revokedAt}}</span>{{/isRevoked}}{{^isRevoked}}<span class="badge badge-enabled">active</span>{{/isRevoked}}</td>
        <td data-label="Actions">{{#canRevoke}}<form method="post" action="/dashboard/api-keys/{{idPath}}/revoke">{{> csrf}}<button class="button danger" type="submit" aria-label="Revoke key {{prefix}}">Revoke</button></form>{{/canRevoke}}</td>
      </tr>
      {{/keys}}
      </tbody>
    </table>
    </div>
    {{^keys}}<p class="empty">No keys yet.</p>{{/keys}}
    """#

    /// The new-key form (posting to `keyAction`) above the keys.
    static let keys = #"""
    <form method="post" action="{{keyAction}}" class="card inline-form">
      {{> csrf}}
      <label for="role">Role of the new key</label>
      <select id="role" name="role">{{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/roles}}</select>
      <button class="button primary" type="submit">Create key</button>
    </form>
    <h2>Keys</h2>
    {{> keyTable}}
    """#

    static let apiKeys = #"""
    <div class="page-head"><h1>API keys</h1></div>
    <p class="muted">This application's keys. A key is shown once, when it is made; here only its prefix.</p>
    {{> keys}}
    """#

    static let applications = #"""
    <div class="page-head"><h1>Applications</h1></div>
    <p class="muted">Every application on this server (operator only). Each has its own webhooks, events, keys and sandbox.</p>
    <div class="table-wrap">
    <table class="stack">
      <caption class="sr-only">Applications</caption>
      <thead><tr><th scope="col">Application</th><th scope="col">Environment</th><th scope="col">Webhook limit</th><th scope="col">Redirect callbacks</th><th scope="col">Created</th></tr></thead>
      <tbody>
      {{#applications}}
      <tr>
        <td data-label="Application"><a href="/dashboard/applications/{{idPath}}">{{name}}</a>{{#isOwn}} <span class="badge">yours</span>{{/isOwn}}<div class="muted mono small">{{id}}</div></td>
        <td data-label="Environment">{{environment}}</td>
        <td data-label="Webhook limit">{{webhookLimit}}</td>
        <td data-label="Redirect callbacks">{{callbacks}}</td>
        <td data-label="Created">{{createdAt}}</td>
      </tr>
      {{/applications}}
      </tbody>
    </table>
    </div>
    <section aria-labelledby="new-application-heading">
      <h2 id="new-application-heading">New application</h2>
      {{> formProblem}}
      <form method="post" action="/dashboard/applications" class="card">
        {{> csrf}}
        <label for="app-name">Name</label>
        <input id="app-name" name="name" type="text" required value="{{name}}"{{#nameInvalid}} aria-invalid="true" aria-describedby="form-error"{{/nameInvalid}}>
        <label for="environment">Environment</label>
        <select id="environment" name="environment">{{#environments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/environments}}</select>
        <label for="redirect_callbacks">Redirect callbacks <span class="muted">(one URL a line, optional)</span></label>
        <textarea id="redirect_callbacks" name="redirect_callbacks" rows="3" spellcheck="false"{{#callbacksInvalid}} aria-invalid="true" aria-describedby="form-error"{{/callbacksInvalid}}>{{callbacksText}}</textarea>
        <div class="actions"><button class="button primary" type="submit">Create application</button></div>
      </form>
    </section>
    """#

    static let application = #"""
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/dashboard/applications">Applications</a> <span aria-hidden="true">/</span> {{name}}</nav>
    <div class="page-head"><h1>{{name}}</h1><span class="badge">{{environment}}</span></div>
    <dl class="facts">
      <dt>ID</dt><dd class="mono">{{id}}</dd>
      <dt>Webhook limit</dt><dd>{{webhookLimit}}</dd>
      <dt>Plain http webhooks</dt><dd>{{#allowPlainHttp}}allowed{{/allowPlainHttp}}{{^allowPlainHttp}}refused{{/allowPlainHttp}}</dd>
      <dt>Redirect callbacks</dt><dd>{{#callbacks}}<div class="mono">{{url}}</div>{{/callbacks}}{{^callbacks}}none{{/callbacks}}</dd>
      <dt>Created</dt><dd>{{createdAt}}</dd>
    </dl>
    {{> keys}}
    """#
}
